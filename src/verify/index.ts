export { readOtlpJson, flattenOtlp, type ExportLogsServiceRequestJson, type OtlpFlatRecord } from "./otlp.js";
export {
  verifyRecords,
  type ChainReport,
  type ProblemKind,
  type VerifiableRecord,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyResult,
} from "./verify.js";
