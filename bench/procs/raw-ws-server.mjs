// Physical baseline for fan-out: a raw `ws` server holding N sockets.
// POST /broadcast?seq=N sends the same bytes the real server sends for a board
// (a graphql-transport-ws "next" message, with its seq replaced by N) to every
// socket: one Buffer, N ws.send calls.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const template = process.env.RAW_TEMPLATE ?? '{"seq":0}';
const seqAt = template.indexOf('"seq":');
if (seqAt < 0) throw new Error('template has no "seq":');
let seqEnd = seqAt + 6;
while (seqEnd < template.length && template.charCodeAt(seqEnd) >= 48 && template.charCodeAt(seqEnd) <= 57) seqEnd++;
const before = template.slice(0, seqAt + 6);
const after = template.slice(seqEnd);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  req.resume();
  if (url.pathname === '/broadcast') {
    const frame = Buffer.from(before + (url.searchParams.get('seq') ?? '0') + after, 'utf8');
    for (const ws of wss.clients) ws.send(frame);
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end(String(wss.clients.size));
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
});
const wss = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('error', () => {});
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.RAW_PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
