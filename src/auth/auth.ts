// nsqd's AUTH support (docs/protocol.md, AUTH): query the auth servers, then check grants per command.
export { type Authorization, type AuthState, authPattern, isAllowed, isExpired } from './state.js';
export { type AuthQueryOptions, AuthQueryError, authParams, goQueryEscape, parseAuthReply, queryAuth } from './query.js';
