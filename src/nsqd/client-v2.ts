import type { Socket } from 'node:net';
import type { AuthState } from '../auth/auth.js';
import { CommandParser, SilentClose, type FinItem, type ParsedItem } from '../protocol/command-parser.js';
import { ProtocolError } from '../protocol/errors.js';
import { encodeError, FRAME_HEARTBEAT, FRAME_OK } from '../protocol/frame.js';
import type { Message } from '../protocol/message.js';
import { idRefText } from '../protocol/message-id.js';
import { checkAuth } from './auth-gate.js';
import type { Channel } from './channel.js';
import { ClientHeartbeat } from './client-heartbeat.js';
import { ClientTransport, PAUSE_BUSY, type TransportSink } from './client-transport.js';
import type { Consumer } from './context.js';
import { RefillWindow } from './refill-window.js';
import type { IdentifySettings, Negotiated } from './identify.js';
import { STATE_NUMBER, TRANSITIONS, type ClientHost, type CommandHandler, type Reply, type SessionState } from './command-handler.js';

/** How far the peer's input got: reading, ended (EOF seen), or finished (EOF acted on). */
type InputState = 'reading' | 'ended' | 'finished';

/**
 * The protocol session of one V2 connection: parses its input, dispatches commands through
 * the handler table with the table's preconditions, answers errors (closing on fatal ones, in
 * one place), and is the channel's Consumer. Bytes, TLS and compression are ClientTransport's;
 * heartbeats and deadlines ClientHeartbeat's.
 *
 * About 480 lines because it is also the channel's Consumer (delivery, RDY and in-flight counts,
 * per-client stats) and those share the session's state; the command handlers live apart in
 * protocol-v2.ts, the bytes in ClientTransport.
 */
export class ClientV2 implements Consumer {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remoteIp: string;
  readonly connectTs: number;
  readonly #host: ClientHost<ClientV2>;
  readonly #commands: Record<string, CommandHandler<ClientV2> | undefined>;
  readonly #transport: ClientTransport;
  readonly #heartbeat: ClientHeartbeat;
  readonly #parser: CommandParser;
  #state: SessionState = 'init';
  readonly #refill = new RefillWindow(() => {
    if (this.channel !== null && this.#state === 'subscribed') this.channel.pump();
  });
  #input: InputState = 'reading';

  clientId: string;
  hostname: string;
  userAgent = '';
  topologyRegion = '';
  topologyZone = '';
  /** Set by IDENTIFY under the topology-aware-consumption experiment (upstream nsqd/channel.go, topology-aware consumption). */
  zoneLocal = false;
  regionLocal = false;
  settings: IdentifySettings;
  auth: AuthState | null = null;
  authSecret = '';

  rdy = 0;
  inFlight = 0;
  messageCount = 0;
  finishCount = 0;
  requeueCount = 0;
  channel: Channel | null = null;
  readonly pubCounts = new Map<string, number>();

  /** An async handler (auth query, TLS handshake, topic lookup) is running; input waits. */
  #busy = false;
  /** Body command waiting for its body: its handler and params. */
  #pending: { h: CommandHandler<ClientV2>; params: string[] } | null = null;
  /** Inside #process: answers are flushed once at its end. */
  #batching = false;
  /** An answer was appended during the current batch and must go out at its end. */
  #answerPending = false;
  /** The fatal error that ended the connection, logged at exit as upstream's tcp server does. */
  #exitError: string | null = null;

  constructor(id: number, sock: Socket, host: ClientHost<ClientV2>, commands: Record<string, CommandHandler<ClientV2> | undefined>) {
    this.id = id;
    this.#host = host;
    this.#commands = commands;
    const o = host.options;
    this.#transport = new ClientTransport(sock, this.#sink, host.logger, o.maxMsgSize, host.flushScheduler);
    this.remoteIp = this.#transport.remoteIp;
    this.remoteAddress = this.#transport.remoteAddress;
    this.clientId = this.remoteIp;
    this.hostname = this.remoteIp;
    this.connectTs = Date.now();
    this.settings = {
      heartbeatIntervalMs: o.clientTimeout / 2,
      outputBufferSize: 16 * 1024,
      outputBufferTimeoutMs: o.outputBufferTimeout,
      sampleRate: 0,
      msgTimeoutMs: o.msgTimeout,
    };
    this.#parser = new CommandParser({ maxBodySize: o.maxBodySize, maxMsgSize: o.maxMsgSize });
    this.#heartbeat = new ClientHeartbeat(this.#transport, {
      sendHeartbeat: () => this.sendFrame(FRAME_HEARTBEAT),
      writeDeadlineExceeded: () => {
        this.#host.logger.error(`[${this.remoteAddress}] write deadline exceeded, closing`);
        this.destroy();
      },
      readDeadlineExceeded: this.#readDeadlineExceeded,
    });
    this.#heartbeat.start(this.settings.heartbeatIntervalMs);
  }

  get host(): ClientHost<ClientV2> {
    return this.#host;
  }

  /** The state as numbered in /stats. */
  get state(): number {
    return STATE_NUMBER[this.#state];
  }

  get msgTimeoutMs(): number {
    return this.settings.msgTimeoutMs;
  }

  get sampleRate(): number {
    return this.settings.sampleRate;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  get tls(): boolean {
    return this.#transport.tls;
  }

  get snappy(): boolean {
    return this.#transport.snappy;
  }

  get deflate(): boolean {
    return this.#transport.deflate;
  }

  tlsInfo(): { cipher: string; version: string; protocol: string } | null {
    return this.#transport.tlsInfo();
  }

  peerCommonName(): string {
    return this.#transport.peerCommonName();
  }

  /** The one place the protocol state changes. Entering `closed` releases the connection. */
  #setState(next: SessionState): void {
    if (!TRANSITIONS[this.#state].includes(next)) throw new Error(`client state ${this.#state} -> ${next}`);
    this.#state = next;
    if (next === 'closed') this.#released();
  }

  /** SUB succeeded: the channel delivers to this connection from now on (RDY permitting). */
  subscribed(channel: Channel): void {
    this.channel = channel;
    this.#setState('subscribed');
  }

  /** CLS: no more deliveries; FIN/REQ/TOUCH keep working until the client closes. */
  startClosing(): void {
    this.rdy = 0;
    this.#setState('closing');
  }

  // ---- input ----------------------------------------------------------------------------

  readonly #sink: TransportSink = {
    onInput: (chunk) => {
      this.#parser.push(chunk);
      this.#process();
      this.#finishInput();
    },
    onInputEnd: () => {
      this.#input = 'ended';
      this.#finishInput();
    },
    onInputReleased: () => {
      if (this.#busy || this.closed) return; // the async handler's completion resumes
      this.#process();
      this.#finishInput();
    },
    onWritable: () => {
      if (this.channel !== null && this.#state === 'subscribed') this.channel.pump();
    },
    onClosed: () => {
      if (!this.closed) this.#setState('closed');
    },
    onBadInput: (what, err) => {
      this.#host.logger.error(`[${this.remoteAddress}] ${what} - ${err.message}`);
      this.destroy();
    },
  };

  /**
   * EOF is acted on once every command before it was answered, as upstream's read loop only
   * sees it then: a command still running (an auth query) finishes and replies first.
   */
  #finishInput(): void {
    // Commands held back (busy, or the client not reading) are answered first, including those
    // a paused inflater still holds (its flush callback does not wait for them to be read).
    if (this.#input !== 'ended' || this.#busy || this.#transport.inputHeld) return;
    if (this.#transport.heldInput() > 0) return;
    this.#input = 'finished';
    if (this.#transport.magic === 'pending') this.#host.logger.error('failed to read protocol version - EOF');
    // The original answers a command cut short by EOF with its "failed to read" error.
    if (!this.closed) {
      const err = this.#parser.eofError();
      if (err !== null) this.#sendError(err);
    }
    this.#transport.end(false);
  }

  /**
   * Parses and executes everything buffered, pausing input while a handler is async. The
   * answers of one batch go out in one write at its end (before the event loop turns): a
   * pipelining client would otherwise cost a write, and on a deflate connection a compressor
   * round trip, per answer.
   */
  #process(): void {
    const outer = this.#batching;
    this.#batching = true;
    try {
      this.#processItems();
    } finally {
      this.#batching = outer;
      // Only answers force the write here; message frames delivered meanwhile (FINs freeing
      // RDY slots) keep riding the once-per-turn flush with the other connections' output.
      if (!outer && this.#answerPending) this.flush();
    }
  }

  #processItems(): void {
    while (!this.#busy && !this.closed) {
      if (this.#transport.holdInputIfBacklogged()) return;
      try {
        const item = this.#parser.nextCommand();
        if (item === null) return;
        const r = this.#handle(item);
        if (r !== undefined) {
          this.#waitFor(r);
          return;
        }
      } catch (err) {
        this.#fail(err);
      }
    }
  }

  /** Holds input while an async handler runs, then carries on with what is buffered. */
  #waitFor(r: Promise<void>): void {
    this.#busy = true;
    this.#transport.pauseInput(PAUSE_BUSY);
    const resume = () => {
      this.#busy = false;
      if (this.closed) return;
      this.#transport.resumeInput(PAUSE_BUSY);
      this.#process();
      this.#finishInput();
    };
    r.then(resume, (err: unknown) => {
      this.#fail(err);
      resume();
    });
  }

  /** Dispatch with the table's preconditions, in the original's order (docs/protocol.md, Connection states). */
  #handle(item: ParsedItem | FinItem): Promise<void> | undefined {
    if (item.type === 'fin') {
      const fin = this.#commands.FIN;
      if (!this.#admit('FIN', fin)) return undefined;
      return this.#respond(fin.execId !== undefined ? fin.execId(this, item) : fin.exec(this, [idRefText(item)], null));
    }
    if (item.type !== 'line') {
      const { h, params } = this.#pending!;
      this.#pending = null;
      const body = item.type === 'body' ? item.body : item.messages;
      if (h.auth?.at !== 'body') return this.#respond(h.exec(this, params, body));
      return this.#respond(thenMaybe(this.#authorize(h, item.name, params), () => h.exec(this, params, body)));
    }
    const { name, params } = item;
    const h = this.#commands[name];
    if (!this.#admit(name, h)) return undefined;
    h.check?.(this, params);
    const gate = h.auth?.at === 'line' ? this.#authorize(h, name, params) : undefined;
    if (!item.hasBody) return this.#respond(thenMaybe(gate, () => h.exec(this, params, null)));
    this.#pending = { h, params };
    const accept = () => {
      h.beforeBody?.(this, params);
      this.#parser.acceptBody();
    };
    if (gate instanceof Promise) return gate.then(accept);
    accept();
    return undefined;
  }

  /**
   * The table's state preconditions, in the original's order: TLS policy (before anything else,
   * even the command name, as upstream's Exec), known command, then state. False when ignored.
   */
  #admit(name: string, h: CommandHandler<ClientV2> | undefined): h is CommandHandler<ClientV2> {
    if (this.#host.options.tlsRequired !== 0 && !this.tls && h?.tlsExempt !== true) {
      throw new ProtocolError('E_INVALID', `cannot ${name} in current state (TLS required)`);
    }
    if (h === undefined) throw new ProtocolError('E_INVALID', `invalid command ${name}`);
    if (h.ignoredIn?.includes(this.#state)) return false;
    if (h.allowedIn !== 'any' && !h.allowedIn.includes(this.#state)) {
      throw new ProtocolError('E_INVALID', `cannot ${name} in current state`);
    }
    return true;
  }

  #authorize(h: CommandHandler<ClientV2>, name: string, params: string[]): void | Promise<void> {
    return checkAuth(this, name, params[0]!, h.auth?.channel === true ? params[1]! : '');
  }

  #respond(r: Reply): Promise<void> | undefined {
    if (r instanceof Promise) {
      return r.then((frame) => {
        if (frame !== null) this.sendFrame(frame);
      });
    }
    if (r !== null) this.sendFrame(r);
    return undefined;
  }

  #fail(err: unknown): void {
    if (err instanceof SilentClose) {
      this.destroy();
      return;
    }
    if (err instanceof ProtocolError) {
      this.#sendError(err);
      return;
    }
    this.#host.logger.error(`[${this.remoteAddress}] internal error - ${(err as Error)?.stack ?? String(err)}`);
    this.#sendError(new ProtocolError('E_INVALID', 'internal error'));
  }

  #sendError(err: ProtocolError): void {
    // A bad magic was logged by the transport; it never entered the V2 loop.
    if (err.fatal && this.#transport.magic === 'V2') {
      this.#host.logger.error(`[${this.remoteAddress}] - ${err.message}`);
      this.#exitError ??= err.message;
    } else if (!err.fatal) {
      this.#host.logger.debug(`[${this.remoteAddress}] - ${err.message}`);
    }
    this.sendFrame(encodeError(err.wireBytes()));
    if (err.fatal) this.closeGracefully();
  }

  #readDeadlineExceeded = (): void => {
    this.#host.logger.info(`PROTOCOL(V2): [${this.remoteAddress}] read deadline exceeded, closing`);
    // The deadline also bounds a body read: upstream then answers with the command's
    // "failed to read" error before closing; between commands it closes silently.
    const err = this.#busy ? null : this.#parser.eofError();
    if (err !== null) {
      this.#sendError(err);
      return;
    }
    this.flush();
    this.destroy();
  };

  // ---- output ---------------------------------------------------------------------------

  /**
   * A response or error frame: flushed at once (docs/protocol.md, Heartbeats and buffering), or with the other
   * answers of the input batch being processed, at its end.
   */
  sendFrame(frame: Buffer): void {
    if (this.closed) return;
    this.#transport.append(frame);
    if (!this.#batching) this.flush();
    else this.#answerPending = true;
  }

  sendOK(): void {
    this.sendFrame(FRAME_OK);
  }

  flush(): void {
    this.#answerPending = false;
    this.#transport.flush();
  }

  // ---- Consumer -------------------------------------------------------------------------

  isReady(): boolean {
    if (this.#state !== 'subscribed') return false;
    const free = this.rdy - this.inFlight;
    if (free <= 0) {
      this.#refill.saturated();
      return false;
    }
    return this.#refill.mayRefill(free, this.rdy) && this.#transport.canDeliver();
  }

  deliver(m: Message): void {
    this.#transport.appendMessage(m);
    this.inFlight++;
    this.messageCount++;
    // Always at the end of the turn, even when RDY is used up: a consumer FINishing one message
    // per write would otherwise get one write per delivery back.
    this.#transport.flushSoon();
  }

  inFlightReleased(count: number): void {
    this.inFlight = Math.max(0, this.inFlight - count);
    if (this.channel !== null) this.channel.pumpSoon();
  }

  closeForChannel(): void {
    this.channel = null;
    this.destroy();
  }

  // ---- settings and upgrades ------------------------------------------------------------

  applySettings(s: IdentifySettings): void {
    this.#transport.setBufferSize(s.outputBufferSize);
    const hbChanged = s.heartbeatIntervalMs !== this.settings.heartbeatIntervalMs;
    this.settings = s;
    if (hbChanged) this.#heartbeat.start(s.heartbeatIntervalMs);
  }

  /** Performs the upgrades granted by IDENTIFY, each followed by its OK frame (docs/protocol.md, IDENTIFY). */
  async upgrade(n: Negotiated): Promise<void> {
    this.flush(); // the IDENTIFY reply goes out before the stream changes
    if (n.tls) {
      const ctx = this.#host.secureContext();
      if (ctx === null) throw new ProtocolError('E_IDENTIFY_FAILED', 'IDENTIFY failed TLS not configured');
      await this.#transport.upgradeTls(ctx, this.#host.options.tlsClientAuthPolicy);
      this.sendOK();
    }
    // Bytes pipelined after IDENTIFY were compressed by the client: they go through the decoder.
    if (n.snappy) {
      this.#transport.enableSnappy(this.#parser.takeBuffered());
      this.sendOK();
    }
    if (n.deflate) {
      this.#transport.enableDeflate(n.deflateLevel, this.#parser.takeBuffered());
      this.sendOK();
    }
  }

  // ---- closing --------------------------------------------------------------------------

  /** Flush what is buffered, then end the connection (after a fatal error). */
  closeGracefully(): void {
    if (this.closed) return;
    this.flush();
    this.#transport.end(true);
    this.#setState('closed');
  }

  destroy(): void {
    this.#transport.destroy();
    if (!this.closed) this.#setState('closed');
  }

  /** Entered `closed`: timers, channel and the daemon's registry let go of this connection. */
  #released(): void {
    this.#transport.shut();
    this.#heartbeat.stop();
    this.#refill.stop();
    if (this.#transport.magic === 'V2') {
      const log = this.#host.logger;
      log.info(`PROTOCOL(V2): [${this.remoteAddress}] exiting ioloop`);
      if (this.#exitError !== null) log.error(`client(${this.remoteAddress}) - ${this.#exitError}`);
      log.info(`PROTOCOL(V2): [${this.remoteAddress}] exiting messagePump`);
    }
    if (this.channel !== null) {
      const ch = this.channel;
      this.channel = null;
      ch.removeConsumer(this);
    }
    this.#host.clientClosed(this);
  }
}

function thenMaybe(r: void | Promise<void>, f: () => Reply): Reply {
  return r instanceof Promise ? r.then(f) : f();
}
