// The iiif-processor peer of bench/iiif: a tiny IIIF Image API server on 127.0.0.1, serving
// /iiif/{2,3}/{id}/... from {dir}/{id}.tif (tiled pyramidal TIFFs made by make_pyramid.js).
//
//   node server.js --port 8123 --dir /path/to/tiffs
//
// It gives iiif-processor its best case, as its README describes it: a dimension function that
// returns every page of the pyramid from memory (read once at start), so the processor picks the
// smallest page with enough pixels and never probes the file for its size; the stream resolver
// opens the local file. Answers carry the headers serverless-iiif sends (CORS, the canonical and
// profile links, a long Cache-Control). Loopback only.
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const sharp = require("sharp");
const { Processor } = require("iiif-processor");

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : fallback;
}

const port = Number(option("port", "8123"));
const dir = path.resolve(option("dir", "."));

async function pagesOf(file) {
  const { pages = 1 } = await sharp(file, { limitInputPixels: false }).metadata();
  const dims = [];
  for (let page = 0; page < pages; page++) {
    const { width, height } = await sharp(file, { limitInputPixels: false, page }).metadata();
    dims.push({ width, height });
  }
  return dims;
}

async function main() {
  const dimensions = new Map();
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith(".tif")) dimensions.set(name.slice(0, -4), await pagesOf(path.join(dir, name)));
  }

  const streamResolver = async ({ id }) => {
    if (!dimensions.has(id)) throw Object.assign(new Error("not found"), { statusCode: 404 });
    return fs.createReadStream(path.join(dir, `${id}.tif`));
  };
  const dimensionFunction = async ({ id }) => dimensions.get(id) ?? null;

  const server = http.createServer(async (req, res) => {
    const headers = { "Access-Control-Allow-Origin": "*" };
    try {
      const processor = new Processor(`http://127.0.0.1:${port}${req.url}`, streamResolver, {
        dimensionFunction,
      });
      if (!dimensions.has(processor.id)) {
        res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("Not Found");
        return;
      }
      const result = await processor.execute();
      if (result.type === "redirect") {
        res.writeHead(302, { ...headers, Location: result.location }).end();
      } else if (result.type === "error") {
        res.writeHead(result.statusCode, { ...headers, "Content-Type": "text/plain" }).end(result.message);
      } else {
        if (result.canonicalLink) headers.Link = `<${result.canonicalLink}>;rel="canonical"`;
        res.writeHead(200, {
          ...headers,
          "Content-Type": result.contentType,
          "Cache-Control": "max-age=31536000",
        });
        res.end(result.body);
      }
    } catch (err) {
      res
        .writeHead(err.statusCode || 500, { ...headers, "Content-Type": "text/plain" })
        .end(String(err.message || err));
    }
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, "127.0.0.1", () => {
    console.log(`iiif-processor peer on http://127.0.0.1:${port} serving ${[...dimensions.keys()].join(", ")}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
