// Listener addresses are written host:port in config ("127.0.0.1:7432", "[::1]:7480").

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function splitHostPort(address: string): HostPort {
  const separator = address.lastIndexOf(':');
  return { host: address.slice(0, separator).replace(/^\[|\]$/g, ''), port: Number(address.slice(separator + 1)) };
}

/** The host part as it must appear inside a URL: IPv6 literals in brackets. */
export const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);
