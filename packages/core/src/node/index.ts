export {
  Connection,
  type ConnectionEvents,
  type ConnectionOptions,
  type SendData,
  type SendOptions,
} from './connection.js';
export { BackpressurePolicy, SendStatus } from './send-status.js';
