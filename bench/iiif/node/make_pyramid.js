// A tiled pyramidal TIFF for the iiif-processor peer, made with sharp (its own libvips):
//
//   node make_pyramid.js SOURCE.jpg OUT.tif [tile=256] [quality=85]
//
// JPEG-compressed 256x256 tiles, each page half the one before down to a single tile: the source
// serverless-iiif's documentation recommends.
"use strict";

const sharp = require("sharp");

async function main() {
  const [source, out, tile = "256", quality = "85"] = process.argv.slice(2);
  if (!source || !out) throw new Error("usage: node make_pyramid.js SOURCE OUT.tif [tile] [quality]");
  const started = process.hrtime.bigint();
  await sharp(source, { limitInputPixels: false })
    .tiff({
      tile: true,
      pyramid: true,
      tileWidth: Number(tile),
      tileHeight: Number(tile),
      compression: "jpeg",
      quality: Number(quality),
    })
    .toFile(out);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ seconds, sharp: sharp.versions.sharp, vips: sharp.versions.vips }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
