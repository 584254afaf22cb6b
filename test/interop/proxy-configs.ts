// The configurations the tests run nginx and HAProxy with: what a deployment in front of a
// WebSocket server writes (HTTP/1.1 upstream with Upgrade and Connection passed on, tunnel
// timeouts, a forwarding header), for plain ws://, TLS ended at the proxy, and TLS passed
// through to a wss:// server by SNI. All paths are in the proxy's own temporary directory.
import { join } from 'node:path';

/** How the proxy carries a connection: plain, ending TLS itself, or passing TLS through to wsx. */
export type ProxyTls = 'none' | 'terminate' | 'passthrough';

export interface ProxyRoute {
  readonly tls: ProxyTls;
  /** The wsx server's port on 127.0.0.1 (a wss:// one for passthrough). */
  readonly upstreamPort: number;
  /** The local address the proxy connects to wsx from (so wsx can tell it from a client). */
  readonly bindAddress?: string;
  /** The header the proxy adds with the client's address (HTTP modes only). Default X-Forwarded-For. */
  readonly header?: 'x-forwarded-for' | 'forwarded';
  /**
   * HAProxy only: h2 on the client side too (ALPN h2, http/1.1), and to wsx over HTTP/2 (h2c,
   * WebSockets as RFC 8441 streams) or HTTP/1.1 upgrades.
   */
  readonly http2?: { readonly upstream: 'h2' | 'h1' };
}

/** What a config is written with: the route, the listening port, the directory, the TLS files. */
export interface ConfigInput {
  readonly route: ProxyRoute;
  readonly port: number;
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  /** HAProxy's one PEM with certificate and key. */
  readonly pem: string;
  /** nginx's `load_module` line for the stream module ('' when built in). */
  readonly streamModule: string;
}

/** The SNI name passthrough routes to wsx; other names go to a closed port. */
export const PASSTHROUGH_NAME = 'localhost';
/** Where passthrough sends other names: the discard port, closed here, so they fail. */
const NOWHERE = '127.0.0.1:9';

export function nginxConfig({ route, port, dir, cert, key, streamModule }: ConfigInput): string {
  const upstream = `127.0.0.1:${route.upstreamPort}`;
  const common = [
    route.tls === 'passthrough' ? streamModule : '',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} notice;`,
    'events { worker_connections 1024; }',
  ];
  if (route.tls === 'passthrough') {
    return lines(
      ...common,
      'stream {',
      '  map $ssl_preread_server_name $wsx_upstream {',
      `    ${PASSTHROUGH_NAME} ${upstream};`,
      `    default ${NOWHERE};`,
      '  }',
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    ssl_preread on;',
      '    proxy_pass $wsx_upstream;',
      '    proxy_timeout 1h;',
      route.bindAddress === undefined ? '' : `    proxy_bind ${route.bindAddress};`,
      '  }',
      '}',
    );
  }
  const forwarded =
    route.header === 'forwarded'
      ? // RFC 7239 §7.4 form: IPv4 with a port is quoted; an earlier Forwarded is kept on the left.
        'proxy_set_header Forwarded "$forwarded_prefix\\"$remote_addr:$remote_port\\"";'
      : 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;';
  return lines(
    ...common,
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (name) => `  ${name}_temp_path ${join(dir, name)};`,
    ),
    '  map $http_upgrade $connection_upgrade { default upgrade; "" close; }',
    '  map $http_forwarded $forwarded_prefix { default "$http_forwarded, for="; "" "for="; }',
    '  server {',
    `    listen 127.0.0.1:${port}${route.tls === 'terminate' ? ' ssl' : ''};`,
    route.tls === 'terminate' ? `    ssl_certificate ${cert};\n    ssl_certificate_key ${key};` : '',
    '    location / {',
    `      proxy_pass http://${upstream};`,
    '      proxy_http_version 1.1;',
    '      proxy_set_header Upgrade $http_upgrade;',
    '      proxy_set_header Connection $connection_upgrade;',
    '      proxy_set_header Host $host;',
    `      ${forwarded}`,
    '      proxy_read_timeout 1h;',
    '      proxy_send_timeout 1h;',
    route.bindAddress === undefined ? '' : `      proxy_bind ${route.bindAddress};`,
    '    }',
    '  }',
    '}',
  );
}

export function haproxyConfig({ route, port, dir, pem }: ConfigInput): string {
  const source = route.bindAddress === undefined ? '' : ` source ${route.bindAddress}`;
  const upstreamH2 = route.http2?.upstream === 'h2' ? ' proto h2 ws h2' : '';
  const server = `  server wsx 127.0.0.1:${route.upstreamPort}${source}${upstreamH2}`;
  const alpn = route.http2 === undefined ? '' : ' alpn h2,http/1.1';
  const global = ['global', `  pidfile ${join(dir, 'haproxy.pid')}`];
  if (route.tls === 'passthrough') {
    return lines(
      ...global,
      'defaults',
      '  mode tcp',
      '  timeout connect 10s',
      '  timeout client 1h',
      '  timeout server 1h',
      'frontend tls_in',
      `  bind 127.0.0.1:${port}`,
      // Wait for the ClientHello, then route by its server name.
      '  tcp-request inspect-delay 10s',
      '  tcp-request content accept if { req_ssl_hello_type 1 }',
      `  use_backend wsx if { req_ssl_sni -i ${PASSTHROUGH_NAME} }`,
      'backend wsx',
      server,
    );
  }
  const forwarded =
    route.header === 'forwarded'
      ? '  http-request add-header Forwarded "for=\\"%[src]:%[src_port]\\""'
      : '  option forwardfor';
  return lines(
    ...global,
    'defaults',
    '  mode http',
    '  timeout connect 10s',
    '  timeout client 30s',
    '  timeout server 30s',
    // After the 101 the connection is a tunnel: this is its idle limit, not the HTTP ones.
    '  timeout tunnel 1h',
    'frontend http_in',
    `  bind 127.0.0.1:${port}${route.tls === 'terminate' ? ` ssl crt ${pem}${alpn}` : ''}`,
    forwarded,
    '  default_backend wsx',
    'backend wsx',
    server,
  );
}

function lines(...parts: string[]): string {
  return `${parts.filter((part) => part !== '').join('\n')}\n`;
}
