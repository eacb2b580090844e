export { RedisAdapter, type RedisAdapterEvents } from './redis-adapter.js';
export {
  DEFAULT_MAX_PENDING_PUBLISHES,
  DEFAULT_PREFIX,
  type RedisAdapterOptions,
  type RedisClientLike,
  type RedisTarget,
} from './redis-adapter-options.js';
export type { ReconnectOptions } from './reconnect-backoff.js';
