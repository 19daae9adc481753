// Health probe server on --readiness-probe-port: /healthz answers while the process serves HTTP;
// the readiness path answers 200 once the caches have synced (503 before).
import { createServer } from 'node:http';
import { listen, type RunningServer } from './listen.ts';

export interface HealthOptions {
  port: number;
  readinessPath: string;
  isReady: () => boolean;
  host?: string;
}

export function serveHealth(options: HealthOptions): Promise<RunningServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (path === options.readinessPath) {
      const ready = options.isReady();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok' : 'caches not synced');
      return;
    }
    res.writeHead(404).end('not found\n');
  });
  return listen(server, options.port, options.host ?? '0.0.0.0');
}
