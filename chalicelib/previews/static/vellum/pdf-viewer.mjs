// The PDF the page names, drawn by pdf.js page by page as it scrolls into view. The file is read
// in ranges from its short-lived URL; PDF scripts never run (pdf.js's scripting sandbox is not
// loaded, and eval is off).
const holder = document.getElementById("pdf");
const pdfjs = await import(holder.dataset.library);
pdfjs.GlobalWorkerOptions.workerSrc = holder.dataset.worker;

try {
  const pdf = await pdfjs.getDocument({
    url: holder.dataset.src,
    isEvalSupported: false,
    enableXfa: false,
    disableAutoFetch: true,
    standardFontDataUrl: holder.dataset.fonts,
    cMapUrl: holder.dataset.cmaps,
    cMapPacked: true,
    wasmUrl: holder.dataset.wasm,
  }).promise;
  holder.replaceChildren();
  holder.dataset.pages = String(pdf.numPages);
  const drawn = new Set();
  const draw = async (canvas) => {
    const number = Number(canvas.dataset.page);
    if (drawn.has(number)) return;
    drawn.add(number);
    const page = await pdf.getPage(number);
    const viewport = page.getViewport({ scale: 1.5 });
    canvas.width = viewport.width;
    canvas.height = viewport.height;
    await page.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
    canvas.dataset.drawn = "true";
    document.body.dataset.rendered = "pdf";
  };
  const watcher = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) draw(entry.target);
  }, { rootMargin: "200px" });
  for (let number = 1; number <= pdf.numPages; number += 1) {
    const canvas = document.createElement("canvas");
    canvas.dataset.page = String(number);
    canvas.width = 612;
    canvas.height = 792;
    holder.append(canvas);
    watcher.observe(canvas);
  }
} catch (error) {
  holder.textContent = "The PDF cannot be shown: " + error.message;
  document.body.dataset.rendered = "failed";
}
