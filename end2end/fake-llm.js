// A stand-in for an OpenAI-compatible chat-completions endpoint, for the browser journeys of
// the assistant: it streams a fixed Markdown reply in timed pieces (or, when the prompt mentions
// negative numbers, a reply that hands out the solution, which the app must block).
const http = require('node:http');

const port = Number(process.env.FAKE_LLM_PORT || 3190);
const PIECE_MS = Number(process.env.FAKE_LLM_PIECE_MS || 400);

const HINT = [
  'Think about **types** first. ',
  'The `+` operator joins strings ',
  'but adds numbers.\n\n',
  '- try `typeof` on each value\n',
  '- then read [MDN](https://developer.mozilla.org/) ',
  'and <img src=x onerror="window.pwned=1"> tags stay text.\n',
];

const LEAK = [
  'Here is the idea.\n',
  '```js\nfunction double(n) {\n',
  '  return n * 2;\n',
  '}\n```\n',
  'Good luck.',
];

function chunk(content) {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-e2e', object: 'chat.completion.chunk', created: 1700000000, model: 'fake-model',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`;
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.end('ok');
    return;
  }
  if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.on('data', (data) => { body += data; });
  req.on('end', () => {
    let request;
    try {
      request = JSON.parse(body);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const last = (request.messages || []).filter((m) => m.role === 'user').pop();
    const pieces = /negative/i.test(last ? last.content : '') ? LEAK : HINT;
    if (!request.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id: 'chatcmpl-e2e', object: 'chat.completion', created: 1700000000, model: 'fake-model',
        choices: [{ index: 0, message: { role: 'assistant', content: pieces.join('') }, finish_reason: 'stop' }],
      }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let next = 0;
    const timer = setInterval(() => {
      if (next < pieces.length) {
        res.write(chunk(pieces[next]));
        next += 1;
      } else {
        clearInterval(timer);
        res.end('data: [DONE]\n\n');
      }
    }, PIECE_MS);
    res.on('close', () => clearInterval(timer));
  });
});

server.listen(port, '127.0.0.1');
