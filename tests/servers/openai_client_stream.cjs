// SPDX-License-Identifier: MIT
// Streams one chat completion from `moa serve` with the official OpenAI Node.js client, unmodified,
// and prints what it saw as JSON: the text, the usage, when the first content chunk and the end
// arrived, and any MoA layer chunks.
// usage: node openai_client_stream.cjs NODE_MODULES_DIR BASE_URL MODEL [API_KEY] [include_layers]
const path = require("path");
const OpenAI = require(path.join(process.argv[2], "openai"));
const [baseURL, model, apiKey = "not-needed", layers] = process.argv.slice(3);

(async () => {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60000 });
  const t0 = Date.now();
  const out = { text: "", usage: null, first_content_ms: null, end_ms: null, chunks: 0, moa_chunks: 0, finish_reason: null };
  try {
    const body = { model, stream: true, stream_options: { include_usage: true },
                   messages: [{ role: "system", content: "Answer briefly." }, { role: "user", content: "What is a mixture of agents?" }] };
    if (layers) body.moa = { include_layers: true };
    const stream = await client.chat.completions.create(body);
    for await (const chunk of stream) {
      out.chunks++;
      if (chunk.moa) out.moa_chunks++;
      const choice = chunk.choices && chunk.choices[0];
      if (choice && choice.delta && choice.delta.content) {
        if (out.first_content_ms === null) out.first_content_ms = Date.now() - t0;
        out.text += choice.delta.content;
      }
      if (choice && choice.finish_reason) out.finish_reason = choice.finish_reason;
      if (chunk.usage) out.usage = chunk.usage;
    }
    out.end_ms = Date.now() - t0;
  } catch (e) {
    out.error = { status: e.status || null, message: String(e.message) };
  }
  console.log(JSON.stringify(out));
})();
