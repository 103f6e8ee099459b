// Physical baseline for the read figure: a bare node:http server that reads the
// request and answers with fixed bytes (the exact body the real server returned).
import { createServer } from 'node:http';

const body = Buffer.from(process.env.RAW_BODY ?? '{}', 'utf8');
const headers = {
  'content-type': process.env.RAW_CONTENT_TYPE ?? 'application/json',
  'content-length': body.length,
};
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.RAW_PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
