export { hex, formatHex, type HexValue } from './peer/hex.js';
export { MemoryDuplex, createMemoryDuplexPair } from './peer/memory-duplex.js';
export { Transcript, formatTranscript, type TranscriptEntry, type TranscriptOptions, type FormatTranscriptOptions } from './peer/transcript.js';
export { FrameReader, describeFrame, describePayload, opcodeName, type ReceivedFrame } from './peer/frame-reader.js';
export { ExpectationError } from './peer/expectation-error.js';
export {
  parseRequestHead,
  parseResponseHead,
  headerValue,
  type HttpHeaders,
  type HttpRequestHead,
  type HttpResponseHead,
} from './peer/http-head.js';
export {
  ScriptedPeer,
  DEFAULT_EXPECT_TIMEOUT,
  RFC_MASK_KEY,
  ZERO_MASK_KEY,
  type PeerRole,
  type ScriptedPeerOptions,
} from './peer/scripted-peer.js';
export { type ConnectOptions, type RequestHeaders } from './peer/client-handshake.js';
export { type SendFrameOptions, type WriteOptions } from './peer/frame-writer.js';
export { type ExpectOptions, type ReceivedMessage, type ReceivedClose } from './peer/peer-expectations.js';
export { type FrameMatcher } from './peer/frame-matcher.js';
export { type PeerEvent } from './peer/frame-inbox.js';
export {
  ScriptedServer,
  PendingUpgrade,
  type ListenOptions,
  type AcceptOptions,
  type HandshakeAnswer,
} from './peer/scripted-server.js';
export { ScriptedHttp2Server, type Http2ListenOptions } from './peer/scripted-http2-server.js';
export { PendingExtendedConnect, type ExtendedConnectAnswer, type ExtendedConnectAcceptOptions } from './peer/pending-extended-connect.js';
export { startTestServer, type TestServer, type TestServerOptions, type UpgradeHandler } from './peer/start-test-server.js';

export {
  Outcome,
  TargetKind,
  SECTION_TITLES,
  DEFAULT_CASE_TIMEOUTS,
  compareCaseIds,
  type ConformanceCase,
  type CaseContext,
  type CaseTimeouts,
  type OpenOptions,
  type Verdict,
} from './catalogue/conformance-case.js';
export { catalogue, selectCases, matchesCasePattern, type CaseSelection } from './catalogue/catalogue.js';
export { PeerObserver, describeEvent, type ObservedEvent, type TrafficEvent } from './catalogue/peer-observer.js';
export {
  judgeEcho,
  judgeFailure,
  judgeFailFast,
  judgeObserved,
  combine,
  informational,
  pass,
  nonStrict,
  fail,
  text,
  binary,
  pong,
  type Expected,
  type EchoOptions,
  type FailureOptions,
} from './catalogue/judgement.js';
export { RfcQuote } from './catalogue/rfc-quote.js';
export {
  compressedEchoCase,
  compressedFrames,
  openCompressed,
  type CompressedEchoSpec,
  type CompressedMessage,
  type DeflateCombination,
} from './catalogue/compressed-echo.js';
export { COMPRESSION_SIZES, DEFAULT_OFFER } from './catalogue/section-12-compression.js';

export { runConformance, type RunConformanceOptions } from './runner/run-conformance.js';
export {
  ConformanceSession,
  describeTarget,
  type ConformanceTarget,
  type SessionOptions,
} from './runner/conformance-session.js';
export { executeCase, type ExecuteCaseOptions } from './runner/execute-case.js';
export { AutobahnServer, type AutobahnServerOptions } from './runner/autobahn-server.js';
export { toJsonReport, formatJsonReport, type JsonReport, type JsonReportOptions, type JsonTranscriptEntry } from './runner/json-report.js';
export { renderHtmlReport } from './runner/html-report.js';
export { createProgressReporter, formatTerminalSummary, type TerminalOptions } from './runner/terminal-summary.js';
export { runCli, USAGE, type CliIo } from './cli/run-cli.js';
export {
  countOutcomes,
  failedCases,
  type CaseResult,
  type ConformanceReport,
  type OutcomeCounts,
} from './runner/conformance-report.js';
