// A bucket's files: the stock Uppy Dashboard to add them, and the list of what is there.
import { useEffect, useRef, useState } from "react";
import Uppy from "@uppy/core";
import Dashboard from "@uppy/dashboard";
import AwsS3 from "@uppy/aws-s3";
import GoldenRetriever from "@uppy/golden-retriever";
import "@uppy/core/css/style.min.css";
import "@uppy/dashboard/css/style.min.css";
import { call } from "./api.js";
import { Describe, History, Rename } from "./file-actions.jsx";
import { CopyLink, Problem, bytes, useAction, useLoad } from "./ui.jsx";
import { OpenUploads } from "./uploads.jsx";

// The stock Uppy Dashboard and @uppy/aws-s3, against Vellum's Companion routes (/s3/...).
function Uploader({ bucket, onUploaded }) {
  const target = useRef(null);
  const uploaded = useRef(onUploaded);
  uploaded.current = onUploaded;
  useEffect(() => {
    const free = bucket.quota_size == null ? null : bucket.quota_size - bucket.size;
    const limit = [bucket.max_file_size, free].filter((n) => n != null);
    const uppy = new Uppy({
      id: `uploads-${bucket.id}`, // what Golden Retriever keeps, it keeps per bucket
      meta: { bucket: bucket.id },
      restrictions: { maxFileSize: limit.length ? Math.min(...limit) : null },
    });
    uppy.use(Dashboard, {
      target: target.current,
      inline: true,
      height: 300,
      width: "100%",
      fileManagerSelectionType: "both", // files and folders
      proudlyDisplayPoweredByUppy: false,
      note: limit.length ? `Files up to ${bytes(Math.min(...limit))}` : null,
    });
    uppy.use(AwsS3, { companionEndpoint: window.location.origin }); // "/" would make //s3/... URLs
    // A reload (which signs out: the token lives in memory) or a crash does not lose an upload:
    // the files' state, S3 upload ids and parts are kept in IndexedDB, with the bytes of files up
    // to 10 MiB; a larger file is shown as one to choose again, and its upload then resumes from
    // the parts S3 already holds.
    uppy.use(GoldenRetriever);
    // Declared sizes let Vellum plan and sign each part's exact length; a folder keeps its paths.
    uppy.on("file-added", (file) => uppy.setFileMeta(file.id, { size: file.size, key: file.meta.relativePath || file.name }));
    uppy.on("upload-success", (file) => uploaded.current(file.meta.key));
    // Once a batch is done its files are in the list below, with their state; the Dashboard is
    // left ready for the next (and one file alone would be a list item outside a list, Uppy's own
    // markup that screen readers cannot place).
    uppy.on("complete", (result) => result.successful.forEach((file) => uppy.removeFile(file.id)));
    return () => uppy.destroy();
  }, [bucket.id, bucket.quota_size, bucket.max_file_size]); // eslint-disable-line react-hooks/exhaustive-deps
  return <div ref={target} className="uploader" />;
}

// What Golden Retriever kept in this browser (uploads' state, small files' bytes): gone when the
// person signs out, so the next person at this browser finds none of it.
export function forgetUploads() {
  indexedDB.deleteDatabase("uppy-blobs");
  Object.keys(localStorage)
    .filter((name) => name.startsWith("uppyState:"))
    .forEach((name) => localStorage.removeItem(name));
}

function FileRow({ object, entry, bucketId, editable, onChanged, onDelete, onMove, drag, first, last }) {
  const ingest = object.ingest || {};
  // A record's file opens in the record's pages; a bare bucket's in the object's own.
  const preview = entry ? entry.links.preview : object.links.self + "?preview";
  return (
    <li className="file" {...(drag && drag.target)}>
      {/* The session cookie lets a bare <img> read a draft's images too (chalicelib.auth.cookies). */}
      <span className={drag ? "thumb movable" : "thumb"} {...(drag && drag.handle)}>
        {object.links.thumbnail ? (
          <img src={object.links.thumbnail} alt="" width="64" />
        ) : (
          <span className="no-thumb" aria-hidden="true" />
        )}
      </span>
      <span>
        <a href={preview} target="_blank" rel="noopener">
          {object.key}
        </a>
        <br />
        <span className="quiet">
          {bytes(object.size)} · {object.mimetype || ingest.type || "unknown type"}
          {object.checksum ? ` · ${object.checksum.slice(0, 19)}…` : ""}
        </span>
        <br />
        <span className={`ingest ${ingest.state}`}>
          {ingest.state === "pending" && "Being processed…"}
          {ingest.state === "done" && "Ready"}
          {ingest.state === "failed" && `Could not be processed: ${ingest.reason || "unknown reason"}`}
        </span>
        {entry && entry.metadata.description && <span className="description">{entry.metadata.description}</span>}
        {entry && editable && (
          <>
            <Describe entry={entry} onSaved={onChanged} />
            <Rename entry={entry} onRenamed={onChanged} />
            <History bucketId={bucketId} entry={entry} onRestored={onChanged} />
          </>
        )}
        <details className="file-action links">
          <summary>Links to {object.key}</summary>
          <CopyLink id={`download-${object.version_id}`} label="Download" url={entry ? entry.links.content : object.links.self} />
          {object.links.iiif_info && (
            <CopyLink id={`info-${object.version_id}`} label="IIIF image information" url={object.links.iiif_info} />
          )}
        </details>
      </span>
      <span className="row-actions">
        {onMove && (
          <>
            <button type="button" className="quiet-button" onClick={() => onMove(-1)} disabled={first} aria-label={`Move ${object.key} up`}>
              ↑
            </button>
            <button type="button" className="quiet-button" onClick={() => onMove(1)} disabled={last} aria-label={`Move ${object.key} down`}>
              ↓
            </button>
          </>
        )}
        {onDelete && (
          <button type="button" className="quiet-button" onClick={onDelete} aria-label={`Delete ${object.key}`}>
            Delete
          </button>
        )}
      </span>
    </li>
  );
}

export function Files({ record, entries, onChange, onImagesReady }) {
  const listing = record.links.files;
  // The bucket's listing: its quota and limits, and each object's own JSON (ingest, thumbnail).
  const { data: bucket, error, reload } = useLoad(() => call("GET", listing), [listing]);
  const objects = (bucket && bucket.contents) || [];
  // key -> the version listed when its upload succeeded (null: none): the upload is not listed
  // yet while that is still the version shown (a form upload is recorded once S3 reports it).
  const [awaited, setAwaited] = useState(() => new Map());
  const [problem, run] = useAction();
  // Look again until every upload is listed and ingest is done with every file: thumbnails,
  // types and checks arrive on their own.
  useEffect(() => {
    const listed = new Map(objects.map((o) => [o.key, o.version_id]));
    const unlisted = [...awaited].some(([key, before]) => !listed.has(key) || listed.get(key) === before);
    const waiting = unlisted || objects.some((o) => o.ingest && o.ingest.state === "pending");
    if (!waiting) return undefined;
    const timer = setTimeout(reload, 1000);
    return () => clearTimeout(timer);
  }, [bucket, awaited]); // eslint-disable-line react-hooks/exhaustive-deps
  const readyImages = objects
    .filter((o) => o.links.iiif_info) // an image's IIIF links come once ingest is done with it
    .map((o) => o.version_id)
    .join(" ");
  useEffect(() => onImagesReady(readyImages), [readyImages]); // eslint-disable-line react-hooks/exhaustive-deps
  const byKey = Object.fromEntries(entries.map((entry) => [entry.key, entry]));
  // The record's order, as the API lists its entries (PUT /records/{id}/files sets it; files it
  // does not name follow in upload order): what its pages and manifest show too.
  const order = entries.map((entry) => entry.key);
  const rank = (key) => (order.includes(key) ? order.indexOf(key) : order.length);
  const shown = [...objects].sort((a, b) => rank(a.key) - rank(b.key));
  // From the buttons (a step up or down) or a drag and drop (onto another file's place).
  const moveTo = (from, to) => {
    if (to < 0 || to >= shown.length || to === from) return;
    const keys = shown.map((o) => o.key);
    keys.splice(to, 0, ...keys.splice(from, 1));
    run(async () => {
      await call("PUT", `/records/${record.id}/files`, { order: keys });
      onChange();
    });
  };
  const [dragged, setDragged] = useState(null);
  // The thumbnail is the handle: a whole row made draggable would take text selection from its fields.
  const dragging = (index) => ({
    handle: {
      draggable: true,
      title: "Drag to move",
      onDragStart: (event) => {
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", shown[index].key);
        event.dataTransfer.setDragImage(event.currentTarget.closest("li"), 0, 0);
        setDragged(index);
      },
      onDragEnd: () => setDragged(null),
    },
    target: {
      onDragOver: (event) => dragged !== null && event.preventDefault(), // a row, not a file from outside
      onDrop: (event) => {
        event.preventDefault();
        if (dragged !== null) moveTo(dragged, index);
        setDragged(null);
      },
    },
  });
  const draft = record.state === "draft";
  const changed = () => {
    reload();
    onChange();
  };
  const remove = (object) =>
    run(async () => {
      await call("DELETE", object.links.self);
      changed();
    });
  return (
    <>
      <Problem error={error || problem} />
      {/* A published record's bucket is locked: its quota matters no more, to anyone. */}
      {draft && bucket && bucket.quota_size != null && (
        <p className="quota">
          <label htmlFor="quota">
            {bytes(bucket.size)} of {bytes(bucket.quota_size)} used
          </label>
          <progress id="quota" max={bucket.quota_size} value={bucket.size} />
        </p>
      )}
      {objects.length === 0 ? (
        <p className="quiet">No files yet{record.state === "draft" ? ": add some with the uploader below." : "."}</p>
      ) : (
        <ul className="files">
          {shown.map((object, index) => (
            <FileRow
              key={object.key}
              object={object}
              entry={byKey[object.key]}
              bucketId={record.bucket_id}
              editable={draft}
              onChanged={changed}
              onDelete={draft ? () => remove(object) : null}
              onMove={draft && shown.length > 1 ? (step) => moveTo(index, index + step) : null}
              drag={draft && shown.length > 1 ? dragging(index) : null}
              first={index === 0}
              last={index === shown.length - 1}
            />
          ))}
        </ul>
      )}
      {draft && bucket && (
        <OpenUploads bucketId={record.bucket_id} seen={objects.map((o) => o.version_id).join(" ")} onAborted={changed} />
      )}
      {draft && bucket && (
        <Uploader
          bucket={bucket}
          onUploaded={(key) => {
            const shown = objects.find((o) => o.key === key);
            setAwaited((keys) => new Map([...keys, [key, shown ? shown.version_id : null]]));
            onChange();
          }}
        />
      )}
    </>
  );
}
