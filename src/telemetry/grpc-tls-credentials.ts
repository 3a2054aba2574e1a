/**
 * TLS credentials for the gRPC exporters that work with an IP-literal endpoint on Node 26.
 *
 * grpc-js (1.14.7, the newest) passes the endpoint's host to tls.connect() as `servername` (SNI)
 * even when it is an IP address. RFC 6066 forbids an IP address there; Node deprecated it
 * (DEP0123, a warning up to Node 24) and Node 26 throws ERR_INVALID_ARG_VALUE, so every export to
 * an endpoint such as https://10.0.0.5:4317 failed as "UNAVAILABLE: No connection established".
 * These credentials are grpc-js's own (createSsl: same roots, client certificate, proxy and
 * target-name handling) with an IP-literal server name left out: no SNI is sent, as RFC 6066
 * asks, and tls.connect() still checks the server's certificate against the IP address (it
 * falls back to `host`, which grpc-js sets to the same address). Only loaded when gRPC over TLS is
 * configured, like grpc-js itself (exporters.ts).
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { ChannelCredentials, credentials, type CallCredentials, type ChannelOptions } from '@grpc/grpc-js';

type Connector = ReturnType<ChannelCredentials['_createSecureConnector']>;

class NoIpServername extends ChannelCredentials {
  constructor(private readonly inner: ChannelCredentials) {
    super();
  }

  _isSecure(): boolean {
    return this.inner._isSecure();
  }

  _equals(other: ChannelCredentials): boolean {
    return other instanceof NoIpServername && this.inner._equals(other.inner);
  }

  _createSecureConnector(target: Parameters<ChannelCredentials['_createSecureConnector']>[0], options: ChannelOptions, call?: CallCredentials): Connector {
    const connector = this.inner._createSecureConnector(target, options, call);
    // grpc-js's connector keeps the options it hands to tls.connect() (it copies them on each
    // connect, so the change holds for reconnects too). Checked by test/telemetry/otlp-tls.test.ts
    // on Node 26: a grpc-js that stops keeping them there fails that test rather than this silently.
    const tls = (connector as Connector & { connectionOptions?: ConnectionOptions }).connectionOptions;
    if (tls?.servername !== undefined && isIP(tls.servername) !== 0) delete tls.servername;
    return connector;
  }
}

/** gRPC channel credentials for TLS: `ca` the roots (system roots when absent), `key` and `cert` the client certificate. */
export function grpcTlsCredentials(ca: Buffer | null, key: Buffer | null, cert: Buffer | null): ChannelCredentials {
  return new NoIpServername(credentials.createSsl(ca, key, cert));
}


