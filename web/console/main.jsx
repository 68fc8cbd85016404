// Vellum's web console: React and react-jsonschema-form over the public API (./api.js).
import { StrictMode, useCallback, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import Form from "@rjsf/core";
import Uppy from "@uppy/core";
import Dashboard from "@uppy/dashboard";
import AwsS3 from "@uppy/aws-s3";
import "@uppy/core/css/style.min.css";
import "@uppy/dashboard/css/style.min.css";
import "./console.css";
import { ApiError, call, imageUrl, setToken, signedIn } from "./api.js";
import { go, useRoute } from "./router.js";
import validator, { errorSchema } from "./validator.js";

const root = document.getElementById("console");
const config = JSON.parse(root.dataset.config || "{}");

function Problem({ error }) {
  if (!error) return null;
  return (
    <p className="problem" role="alert">
      {error.message}
    </p>
  );
}

function SignIn({ onSignedIn }) {
  const [user, setUser] = useState("");
  const [admin, setAdmin] = useState(false);
  const [error, setError] = useState(null);
  if (config.signIn !== "local") {
    return (
      <main>
        <h1>Sign in</h1>
        <p>Signing in to this installation is not set up yet.</p>
      </main>
    );
  }
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const { token } = await call("POST", "/console/local-token", { user: user.trim(), admin });
      setToken(token);
      await call("POST", "/session"); // Uppy sends no headers: its requests carry this cookie
      onSignedIn(await call("GET", "/me"));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <main>
      <h1>Sign in</h1>
      <p>This is the local stage: sign in as anyone to try Vellum.</p>
      <form className="sign-in" onSubmit={submit}>
        <label htmlFor="user">User name</label>
        <input id="user" name="user" autoComplete="username" required value={user} onChange={(e) => setUser(e.target.value)} />
        <label className="check">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} /> Administrator
        </label>
        <button type="submit">Sign in</button>
      </form>
      <Problem error={error} />
    </main>
  );
}

function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const reload = useCallback(() => {
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => setState({ data, error: null, loading: false }),
      (error) => setState({ data: null, error, loading: false }),
    );
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(reload, [reload]);
  return { ...state, reload };
}

function title(record) {
  return (record.metadata && record.metadata.title) || "Untitled";
}

// Newest first already: keep each record's first (newest) version; the record lists the others.
function newestVersions(records) {
  const seen = new Set();
  return records.filter((record) => {
    const chain = (record.versions && record.versions.parent) || record.id;
    if (seen.has(chain)) return false;
    seen.add(chain);
    return true;
  });
}

function RecordList({ heading, query, empty }) {
  const headingId = `${heading.toLowerCase().replace(/\W+/g, "-")}-heading`;
  const [cursor, setCursor] = useState(null);
  const { data, error, loading } = useLoad(
    () => call("GET", `/records?${new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) })}`),
    [JSON.stringify(query), cursor],
  );
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>{heading}</h2>
      <Problem error={error} />
      {loading && !data && <p className="quiet">Loading…</p>}
      {data && data.records.length === 0 && <p className="quiet">{empty}</p>}
      {data && data.records.length > 0 && (
        <ul className="records">
          {newestVersions(data.records).map((record) => (
            <li key={record.id}>
              <a href={`#/records/${record.id}`}>{title(record)}</a> <span className={`state ${record.state}`}>{record.state}</span>
            </li>
          ))}
        </ul>
      )}
      {data && data.links.next && (
        <button type="button" onClick={() => setCursor(new URL(data.links.next).searchParams.get("cursor"))}>
          Older records
        </button>
      )}
    </section>
  );
}

function Records() {
  return (
    <main>
      <div className="bar">
        <h1>Records</h1>
        <button type="button" onClick={() => go("records", "new")}>
          New record
        </button>
      </div>
      <RecordList heading="My records" query={{ owner: "me" }} empty="You have no records yet: start one with New record." />
      <RecordList heading="Published records" query={{}} empty="No records are published yet." />
    </main>
  );
}

function MetadataForm({ initial, onSave, saveLabel }) {
  const { data: schema, error } = useLoad(() => call("GET", "/schemas/record"), []);
  const [formData, setFormData] = useState(initial);
  const [problem, setProblem] = useState(null);
  const [fieldErrors, setFieldErrors] = useState({});
  if (error) return <Problem error={error} />;
  if (!schema) return <p className="quiet">Loading the form…</p>;
  const submit = async ({ formData: submitted }) => {
    setProblem(null);
    setFieldErrors({});
    try {
      await onSave(submitted);
    } catch (failure) {
      setProblem(failure);
      if (failure instanceof ApiError) setFieldErrors(errorSchema(failure.errors));
    }
  };
  const { $schema, $id, ...shown } = schema; // the form needs neither
  return (
    <>
      <Problem error={problem} />
      <Form
        schema={shown}
        validator={validator}
        formData={formData}
        onChange={({ formData: changed }) => setFormData(changed)}
        onSubmit={submit}
        extraErrors={fieldErrors}
        showErrorList={false}
        noHtml5Validate
      >
        <button type="submit">{saveLabel}</button>
      </Form>
    </>
  );
}

function NewRecord() {
  const create = async (metadata) => {
    const record = await call("POST", "/records", { metadata: metadata || {} });
    go("records", record.id);
  };
  return (
    <main>
      <p>
        <a href="#/records">← Records</a>
      </p>
      <h1>New record</h1>
      <MetadataForm initial={{}} onSave={create} saveLabel="Create record" />
    </main>
  );
}

const MiB = 1024 * 1024;

function bytes(n) {
  if (n == null) return "";
  if (n < 1024) return `${n} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

// The stock Uppy Dashboard and @uppy/aws-s3, against Vellum's Companion routes (/s3/...).
function Uploader({ bucket, onUploaded }) {
  const target = useRef(null);
  const uploaded = useRef(onUploaded);
  uploaded.current = onUploaded;
  useEffect(() => {
    const free = bucket.quota_size == null ? null : bucket.quota_size - bucket.size;
    const limit = [bucket.max_file_size, free].filter((n) => n != null);
    const uppy = new Uppy({
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
    // Declared sizes let Vellum plan and sign each part's exact length; a folder keeps its paths.
    uppy.on("file-added", (file) => uppy.setFileMeta(file.id, { size: file.size, key: file.meta.relativePath || file.name }));
    uppy.on("upload-success", (file) => uploaded.current(file.meta.key));
    return () => uppy.destroy();
  }, [bucket.id, bucket.quota_size, bucket.max_file_size]); // eslint-disable-line react-hooks/exhaustive-deps
  return <div ref={target} className="uploader" />;
}

function Thumbnail({ src }) {
  const [url, setUrl] = useState(null);
  useEffect(() => {
    let shown = null;
    let live = true;
    imageUrl(src).then(
      (made) => (live ? setUrl((shown = made)) : URL.revokeObjectURL(made)),
      () => {},
    );
    return () => {
      live = false;
      if (shown) URL.revokeObjectURL(shown);
    };
  }, [src]);
  return url ? <img src={url} alt="" width="64" /> : <span className="no-thumb" aria-hidden="true" />;
}

function FileRow({ object, preview }) {
  const ingest = object.ingest || {};
  return (
    <li className="file">
      {object.links.thumbnail ? <Thumbnail src={object.links.thumbnail} /> : <span className="no-thumb" aria-hidden="true" />}
      <span>
        <a href={preview}>{object.key}</a>
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
      </span>
    </li>
  );
}

function Files({ record, entries, onChange }) {
  const listing = record.links.files;
  // The bucket's listing: its quota and limits, and each object's own JSON (ingest, thumbnail).
  const { data: bucket, error, reload } = useLoad(() => call("GET", listing), [listing]);
  const objects = (bucket && bucket.contents) || [];
  // key -> the version listed when its upload succeeded (null: none): the upload is not listed
  // yet while that is still the version shown (a form upload is recorded once S3 reports it).
  const [awaited, setAwaited] = useState(() => new Map());
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
  const previews = Object.fromEntries(entries.map((entry) => [entry.key, entry.links.preview]));
  return (
    <>
      <Problem error={error} />
      {objects.length === 0 ? (
        <p className="quiet">No files yet{record.state === "draft" ? ": drop some below." : "."}</p>
      ) : (
        <ul className="files">
          {objects.map((object) => (
            <FileRow key={object.key} object={object} preview={previews[object.key] || object.links.self + "?preview"} />
          ))}
        </ul>
      )}
      {record.state === "draft" && bucket && (
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

function Versions({ id }) {
  const { data, error } = useLoad(() => call("GET", `/records/${id}/versions`), [id]);
  if (error) return <Problem error={error} />;
  if (!data || data.versions.length < 2) return null;
  return (
    <>
      <h2>Versions</h2>
      <ol className="versions">
        {data.versions.map((version) => (
          <li key={version.id}>
            {version.id === id ? <strong>Version {version.versions.index} (this one)</strong> : <a href={`#/records/${version.id}`}>Version {version.versions.index}</a>}{" "}
            <span className={`state ${version.state}`}>{version.state}</span>
            {version.versions.is_latest && <span className="latest"> latest published</span>}
          </li>
        ))}
      </ol>
    </>
  );
}

function CopyLink({ label, url }) {
  const [copied, setCopied] = useState(false);
  const inputId = `copy-${label.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <div className="copy">
      <label htmlFor={inputId}>{label}</label>
      <input id={inputId} readOnly value={url} onFocus={(e) => e.target.select()} />
      <button
        type="button"
        onClick={() => navigator.clipboard.writeText(url).then(() => setCopied(true), () => setCopied(false))}
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}

// Mirador cannot send the console's token: it shows what anyone may see, so a published record.
function Images({ record }) {
  return (
    <>
      <h2>Images</h2>
      {record.state === "published" ? (
        <iframe className="mirador" title={`Mirador: ${title(record)}`} src={`/console/viewer/${record.id}`} />
      ) : (
        <p className="quiet">The record's images open in Mirador once it is published.</p>
      )}
      <CopyLink label="IIIF manifest" url={record.links.iiif_manifest} />
    </>
  );
}

function RecordView({ id, me }) {
  const { data: record, error, reload } = useLoad(() => call("GET", `/records/${id}`), [id]);
  const [problem, setProblem] = useState(null);
  if (error) {
    return (
      <main>
        <p>
          <a href="#/records">← Records</a>
        </p>
        <Problem error={error} />
      </main>
    );
  }
  if (!record) return <main className="quiet">Loading…</main>;
  const act = async (method, path) => {
    setProblem(null);
    try {
      const answer = await call(method, path);
      if (answer && answer.id && answer.id !== id) go("records", answer.id);
      else reload();
    } catch (failure) {
      setProblem(failure);
    }
  };
  const remove = async (event) => {
    event.preventDefault();
    setProblem(null);
    const reason = new FormData(event.target).get("reason");
    try {
      await call("DELETE", `/records/${id}${reason ? `?${new URLSearchParams({ reason })}` : ""}`);
      go("records");
    } catch (failure) {
      setProblem(failure);
    }
  };
  const entries = Object.values((record.files && record.files.entries) || {});
  const mine = me.admin || (record.owners || []).includes(me.sub); // what the API lets one change
  return (
    <main>
      <p>
        <a href="#/records">← Records</a>
      </p>
      <div className="bar">
        <h1>{title(record)}</h1>
        <span className={`state ${record.state}`}>{record.state}</span>
      </div>
      <Problem error={problem} />
      <div className="actions">
        {mine && record.state === "draft" && (
          <button type="button" onClick={() => act("POST", `/records/${id}/publish`)}>
            Publish
          </button>
        )}
        {mine && record.state === "published" && (
          <button type="button" onClick={() => act("POST", `/records/${id}/versions`)}>
            New version
          </button>
        )}
      </div>
      <h2>Files</h2>
      <Files
        record={record}
        entries={entries}
        onChange={() => {
          setProblem(null); // what failed before the new files may work now
          reload();
        }}
      />
      {record.links.iiif_manifest && <Images record={record} />}
      <Versions id={id} key={record.revision_id} />
      {mine && record.state === "draft" && (
        <form className="danger" onSubmit={remove}>
          <h2>Delete this draft</h2>
          <p className="quiet">The draft and its files go for good.</p>
          <button type="submit">Delete draft</button>
        </form>
      )}
      {me.admin && record.state === "published" && (
        <form className="danger" onSubmit={remove}>
          <h2>Remove this record</h2>
          <p className="quiet">A tombstone stays: the record answers with this reason from now on.</p>
          <label htmlFor="reason">Reason</label>
          <input id="reason" name="reason" required maxLength={500} />
          <button type="submit">Remove record</button>
        </form>
      )}
      <h2>Metadata</h2>
      {record.state === "draft" ? (
        <MetadataForm
          initial={record.metadata}
          saveLabel="Save"
          onSave={async (metadata) => {
            const revision = { "If-Match": `"${record.revision_id}"` }; // refused if someone saved since
            await call("PUT", `/records/${id}`, { metadata, access: record.access }, revision);
            reload();
          }}
        />
      ) : (
        <pre className="metadata">{JSON.stringify(record.metadata, null, 2)}</pre>
      )}
    </main>
  );
}

function App() {
  const [me, setMe] = useState(null);
  const route = useRoute();
  if (!me || !signedIn()) return <SignIn onSignedIn={setMe} />;
  let view;
  if (route[0] === "records" && route[1] === "new") view = <NewRecord />;
  else if (route[0] === "records" && route[1]) view = <RecordView id={route[1]} me={me} />;
  else view = <Records />;
  return (
    <>
      <header className="top">
        <a className="brand" href="#/records">
          Vellum
        </a>
        <span>
          Signed in as <strong>{me.sub}</strong>
          {me.admin ? " (administrator)" : ""}{" "}
          <button
            type="button"
            onClick={() => {
              call("DELETE", "/session").catch(() => {}); // ended server-side, wherever it was copied
              setToken(null);
              setMe(null);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      {view}
    </>
  );
}

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
