// A draft's uploads still in progress (from this browser or any other client), each one abortable:
// aborting gives its reserved quota back.
import { useEffect } from "react";
import { call } from "./api.js";
import { Problem, bytes, useAction, useLoad } from "./ui.jsx";

export function OpenUploads({ bucketId, seen, onAborted }) {
  // Read again whenever the file list is (``seen``): an upload that ends leaves this list then.
  const { data, error, reload } = useLoad(() => call("GET", `/files/${bucketId}?uploads`), [bucketId, seen]);
  const [problem, run] = useAction();
  const open = (data && data.uploads) || [];
  // Uploads end on their own too (completed by their client, aborted, expired): look again.
  useEffect(() => {
    if (!open.length) return undefined;
    const timer = setTimeout(reload, 5000);
    return () => clearTimeout(timer);
  }, [data]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!open.length && !error && !problem) return null;
  const abort = (upload) =>
    run(async () => {
      await call("DELETE", upload.links.self);
      reload();
      onAborted();
    });
  return (
    <section aria-labelledby="open-uploads">
      <h3 id="open-uploads">Uploads in progress</h3>
      <Problem error={error || problem} />
      <ul className="files">
        {open.map((upload) => (
          <li key={upload.id} className="upload">
            <span>
              {upload.key}
              <br />
              <span className="quiet">
                {bytes(upload.size)} · started <time dateTime={upload.created}>{new Date(upload.created).toLocaleString()}</time>
              </span>
            </span>
            <button type="button" className="quiet-button" onClick={() => abort(upload)} aria-label={`Abort the upload of ${upload.key}`}>
              Abort
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
