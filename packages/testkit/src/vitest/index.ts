export {
  describeConformance,
  describeClientConformance,
  conformanceFailure,
  type DescribeConformanceOptions,
} from './describe-conformance.js';
export { useTestServer } from './use-test-server.js';
