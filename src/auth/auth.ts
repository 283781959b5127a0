// nsqd's AUTH support (tcp-protocol.md §11): query the auth servers, then check grants per command.
export { type Authorization, type AuthState, authPattern, isAllowed, isExpired } from './state.js';
export { type AuthQueryOptions, AuthQueryError, authParams, goQueryEscape, parseAuthReply, queryAuth } from './query.js';
