/**
 * httpd.ts: a static-file HTTP/1.1 server for Deno over raw TCP.
 *
 * The protocol layer uses no `Deno.*` and does no I/O of its own: its
 * parsers are pure (bytes in, values out), and its request reader reads
 * through whatever source it is given; the server layer does the I/O.
 * Of the server layer, what an embedder needs is exported: `serve()`, the
 * file handler and the shapes of a handler's responses; its cache, frames
 * and other parts with rules of their own stay inside. (`Frame` and `Wire`
 * are exported as types only, because a `Response` can carry one; an
 * embedder's handler leaves them out.)
 *
 * @example
 * ```ts ignore
 * import { serve } from "./mod.ts";
 * const server = serve({ root: "www", hostname: "127.0.0.1", port: 8080 });
 * Deno.addSignalListener("SIGTERM", () => server.shutdown());
 * await server.finished;
 * ```
 *
 * @module
 */

export {
  type AcceptEncodingEntry,
  chooseEncoding,
  parseAcceptEncoding,
} from "./protocol/accept_encoding.ts";
export { formatHttpDate, parseHttpDate } from "./protocol/date.ts";
export {
  ERROR_STATUS,
  RequestError,
  type RequestErrorCode,
} from "./protocol/errors.ts";
export {
  type EntityTag,
  type EtagSource,
  formatEtag,
  parseEtag,
  parseEtagList,
} from "./protocol/etag.ts";
export { settleFraming } from "./protocol/framing.ts";
export { DEFAULT_HEAD_LIMITS, type HeadLimits } from "./protocol/limits.ts";
export {
  createMultipartByteranges,
  joinMultipartByteranges,
  type MultipartByteranges,
  type MultipartByterangesInit,
  type MultipartPart,
} from "./protocol/multipart.ts";
export {
  evaluatePreconditions,
  isRangeApplicable,
  type PreconditionRequest,
  type PreconditionResult,
  type Validators,
} from "./protocol/preconditions.ts";
export {
  type ByteRange,
  formatContentRange,
  parseRange,
  type RangeIgnoredReason,
  type RangeResult,
} from "./protocol/range.ts";
export {
  getField,
  type ParsedRequestHead,
  parseRequestHead,
  type ParseRequestHeadOptions,
  type RequestHead,
} from "./protocol/request_head.ts";
export {
  formatLocation,
  parseRequestPath,
  queryOf,
  type RequestPath,
} from "./protocol/request_path.ts";
export {
  type ByteSource,
  readRequests,
  type ReadRequestsOptions,
  type RequestIterator,
} from "./protocol/request_reader.ts";
export { formatResponseHead } from "./protocol/response_head.ts";
export { STATUS, STATUS_TEXT, type StatusCode } from "./protocol/status.ts";
export { type OpenFile } from "./server/timed_open.ts";
export {
  createFileHandler,
  type FileHandlerOptions,
  type Handler,
} from "./server/file_handler.ts";
export { type ErrorReporter } from "./server/error_report.ts";
export { type Frame } from "./server/frame.ts";
export { type ByteWriter, type LineSink } from "./server/line_sink.ts";
export { serve, type ServeOptions, type Server } from "./server/listen.ts";
export { mediaType } from "./server/media_type.ts";
export {
  type Body,
  errorResponse,
  type FileBody,
  formatFields,
  type MultipartBody,
  type Response,
  type Wire,
} from "./server/response.ts";
