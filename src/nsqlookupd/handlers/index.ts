import type { CommandHandler } from './types.js';
import { identify } from './identify.js';
import { ping } from './ping.js';
import { register } from './register.js';
import { unregister } from './unregister.js';

/** The lookup protocol's command table (upstream `nsqlookupd/lookup_protocol_v1.go` Exec); anything else is `E_INVALID`. */
export const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map([
  ['PING', ping],
  ['IDENTIFY', identify],
  ['REGISTER', register],
  ['UNREGISTER', unregister],
]);
