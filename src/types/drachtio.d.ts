/**
 * The one local declaration file for drachtio-srf 5 and drachtio-fsmrf 4: only what papgate uses.
 * (drachtio-srf ships its own index.d.ts; an ambient module declaration takes precedence, so the
 * shapes papgate relies on are written down once, here, after reading node_modules/drachtio-*.)
 */
declare module 'drachtio-srf' {
  import { EventEmitter } from 'node:events';

  namespace Srf {
    interface AOR {
      name?: string;
      uri: string;
      params?: Record<string, string | null | undefined>;
    }

    interface SipMessage {
      readonly type: 'request' | 'response';
      readonly body: string;
      readonly source: 'network' | 'application';
      readonly source_address: string;
      readonly source_port: number;
      readonly protocol: string;
      readonly calledNumber: string;
      readonly callingNumber: string;
      get(name: string): string | undefined;
      has(name: string): boolean;
      getParsedHeader(name: 'contact' | 'Contact'): AOR[];
      getParsedHeader(name: 'to' | 'To' | 'from' | 'From'): AOR;
    }

    interface SrfRequest extends SipMessage, EventEmitter {
      /** Writable: createB2BUA offers it to the B leg when localSdpB is empty. */
      body: string;
      readonly method: string;
      readonly uri: string;
      on(event: 'response', listener: (res: SrfResponse) => void): this;
      on(event: 'cancel', listener: () => void): this;
      on(event: string, listener: (...args: never[]) => void): this;
    }

    interface SrfResponse extends SipMessage {
      readonly status: number;
      readonly finalResponseSent: boolean;
      send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void;
      send(status: number, opts?: { headers?: Record<string, string> }): void;
    }

    interface Dialog extends EventEmitter {
      readonly id: string;
      readonly sip: { callId: string; localTag: string; remoteTag: string };
      readonly connected: boolean;
      destroy(opts?: { headers?: Record<string, string> }): Promise<void>;
      on(event: 'destroy', listener: (msg?: unknown) => void): this;
      on(event: string, listener: (...args: never[]) => void): this;
    }

    interface ConnectOptions {
      host: string;
      port: number;
      secret: string;
      reconnect?: { retryMaxDelay?: number; maxAttempts?: number };
      enablePing?: boolean;
      pingInterval?: number;
    }

    interface RequestOptions {
      method: string;
      headers?: Record<string, string>;
      body?: string;
      /** send through this address (sip URI or host:port) instead of resolving the request-URI */
      proxy?: string;
    }

    interface ProxyOptions {
      recordRoute?: boolean;
      remainInDialog?: boolean;
      followRedirects?: boolean;
      forking?: 'sequential' | 'simultaneous';
      provisionalTimeout?: string;
      finalTimeout?: string;
    }

    interface ProxyResult {
      connected: boolean;
      finalStatus?: number;
    }

    type Handler = (req: SrfRequest, res: SrfResponse) => void;
  }

  class Srf extends EventEmitter {
    constructor(tags?: string | string[]);
    connect(opts: Srf.ConnectOptions): void;
    disconnect(): void;
    register(handler: Srf.Handler): void;
    invite(handler: Srf.Handler): void;
    options(handler: Srf.Handler): void;
    /**
     * Sends drachtio-server `remove_route`: it routes no new requests outside a dialog to this
     * application, whatever the verb (drachtio-server 0.9 drops all of the connection's routes);
     * requests inside its dialogs still come. Throws when `verb` was never routed.
     */
    unregisterForMessages(verb: string): void;
    request(uri: string, opts: Srf.RequestOptions): Promise<Srf.SrfRequest>;
    /** callback form: invoked synchronously when the request went out, before any response is dispatched */
    request(
      uri: string,
      opts: Srf.RequestOptions,
      callback: (err: Error | null, req: Srf.SrfRequest) => void,
    ): this;
    proxyRequest(
      req: Srf.SrfRequest,
      destination: string | string[],
      opts?: Srf.ProxyOptions,
    ): Promise<Srf.ProxyResult>;
    createUAS(
      req: Srf.SrfRequest,
      res: Srf.SrfResponse,
      opts: { localSdp: string; headers?: Record<string, string> },
    ): Promise<Srf.Dialog>;
    /** Rejects with an error carrying `status` when the B leg fails (passFailure: already relayed to A). */
    createB2BUA(
      req: Srf.SrfRequest,
      res: Srf.SrfResponse,
      uri: string,
      opts: {
        headers?: Record<string, string>;
        callingNumber?: string;
        callingName?: string;
        /** the B leg's body; empty or missing: the A leg's body (req.body), SDP or not */
        localSdpB?: string;
        /** headers of the A leg's INVITE copied to the B leg; default none */
        proxyRequestHeaders?: string[];
        passFailure?: boolean;
      },
    ): Promise<{ uas: Srf.Dialog; uac: Srf.Dialog }>;
    on(event: 'connect', listener: (err: Error | null, hostport: string) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'reconnecting' | 'close', listener: (...args: unknown[]) => void): this;
    on(event: string, listener: (...args: never[]) => void): this;
  }

  export = Srf;
}

declare module 'drachtio-fsmrf' {
  import { EventEmitter } from 'node:events';
  import type Srf from 'drachtio-srf';

  namespace Mrf {
    interface ConnectOptions {
      address: string;
      port: number;
      secret: string;
      /** address FreeSWITCH's outbound event socket connects back to */
      listenAddress: string;
      listenPort?: number;
      advertisedAddress?: string;
      profile?: string;
    }

    interface EslConnection {
      closing?: boolean;
      reconnectVars?: { retryTimer?: ReturnType<typeof setTimeout> | null };
      connected(): boolean;
    }

    interface MediaServer extends EventEmitter {
      readonly address: string;
      readonly conn: EslConnection;
      readonly currentSessions: number;
      connected(): boolean;
      api(command: string): Promise<string>;
      /** `headers`: added to the INVITE fsmrf sends FreeSWITCH */
      createEndpoint(opts?: {
        remoteSdp?: string;
        codecs?: string[];
        headers?: Record<string, string>;
      }): Promise<Endpoint>;
      connectCaller(
        req: Srf.SrfRequest,
        res: Srf.SrfResponse,
        opts?: { codecs?: string[]; headers?: Record<string, string> },
      ): Promise<{ endpoint: Endpoint; dialog: Srf.Dialog }>;
      disconnect(): void;
      on(event: 'end', listener: () => void): this;
      on(
        event: 'channel::open' | 'channel::close',
        listener: (e: { uuid?: string; countOfConnections: number }) => void,
      ): this;
      on(event: string, listener: (...args: never[]) => void): this;
    }

    interface Endpoint extends EventEmitter {
      readonly uuid: string;
      readonly connected: boolean;
      readonly dialog: Srf.Dialog | null;
      readonly local: { sdp: string; mediaIp?: string; mediaPort?: string };
      play(file: string | string[]): Promise<unknown>;
      /** play_and_get_digits (the benchmark's bare reference app) */
      playCollect(opts: {
        file: string;
        min?: number;
        max?: number;
        timeout?: number;
        terminators?: string;
      }): Promise<{ digits?: string; terminatorUsed?: string }>;
      /** an API command on the endpoint's event socket; resolves with the api/response event */
      api(command: string, args?: string | string[]): Promise<{ getBody(): string }>;
      execute(app: string, arg?: string): Promise<unknown>;
      set(param: string | Record<string, string>, value?: string): Promise<unknown>;
      destroy(): Promise<void>;
      on(event: 'dtmf', listener: (e: { dtmf: string; duration?: string; source?: string }) => void): this;
      on(event: 'destroy', listener: (e?: { reason?: string }) => void): this;
      on(event: string, listener: (...args: never[]) => void): this;
    }
  }

  class Mrf extends EventEmitter {
    constructor(srf: Srf, opts?: { customEvents?: string[] });
    connect(opts: Mrf.ConnectOptions): Promise<Mrf.MediaServer>;
  }

  export = Mrf;
}
