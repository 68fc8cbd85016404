// Records: the lists, the schema form, and one record with its files, images and versions.
import { useState } from "react";
import Form from "@rjsf/core";
import { ApiError, call, saveDraft } from "./api.js";
import { Files } from "./files.jsx";
import { AccessForm, accessSummary } from "./record-access.jsx";
import { go } from "./router.js";
import { CopyLink, Problem, title, useAction, useLoad } from "./ui.jsx";
import validator, { errorSchema } from "./validator.js";

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

export function Records() {
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
  const [saved, setSaved] = useState(false);
  if (error) return <Problem error={error} />;
  if (!schema) return <p className="quiet">Loading the form…</p>;
  const submit = async ({ formData: submitted }) => {
    setProblem(null);
    setFieldErrors({});
    setSaved(false);
    try {
      await onSave(submitted);
      setSaved(true);
    } catch (failure) {
      setProblem(failure);
      if (failure instanceof ApiError) setFieldErrors(errorSchema(failure.errors));
    }
  };
  // The form needs neither id; the schema's own title names the schema, and the page has a heading.
  const { $schema, $id, title: _, ...shown } = schema;
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
      <p role="status" className="quiet">
        {saved && "Saved."}
      </p>
    </>
  );
}

export function NewRecord() {
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
            {version.versions.is_latest && <span className="latest"> (the latest)</span>}
          </li>
        ))}
      </ol>
    </>
  );
}

// Stock Mirador on the record's manifest, framed on Vellum's own origin: the session cookie lets
// it read a draft's images too.
function Images({ record }) {
  return (
    <>
      <h2>Images</h2>
      <iframe className="mirador" title={`Mirador: ${title(record)}`} src={`/console/viewer/${record.id}`} />
      <CopyLink label="IIIF manifest" url={record.links.iiif_manifest} />
    </>
  );
}

export function RecordView({ id, me }) {
  const { data: record, error, reload } = useLoad(() => call("GET", `/records/${id}`), [id]);
  const [problem, run, setProblem] = useAction();
  const [images, setImages] = useState("");
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
  const act = (method, path) =>
    run(async () => {
      const answer = await call(method, path);
      if (answer && answer.id && answer.id !== id) go("records", answer.id);
      else reload();
    });
  const remove = (event) => {
    event.preventDefault();
    const reason = new FormData(event.target).get("reason");
    run(async () => {
      await call("DELETE", `/records/${id}${reason ? `?${new URLSearchParams({ reason })}` : ""}`);
      go("records");
    });
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
          <>
            <button type="button" onClick={() => act("POST", `/records/${id}/publish`)} aria-describedby="publish-note">
              Publish
            </button>
            <span id="publish-note" className="quiet">
              Its files are then fixed for good; later changes go into a new version.
            </span>
          </>
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
        onImagesReady={setImages}
        onChange={() => {
          setProblem(null); // what failed before the new files may work now
          reload();
        }}
      />
      {/* Opened again when the record changes or another image is ready, so it shows them. */}
      {record.links.iiif_manifest && <Images record={record} key={`${record.revision_id} ${images}`} />}
      <Versions id={id} key={record.revision_id} />
      <h2>Metadata</h2>
      {record.state === "draft" ? (
        <MetadataForm
          initial={record.metadata}
          saveLabel="Save"
          onSave={async (metadata) => {
            await saveDraft(record, { metadata });
            reload();
          }}
        />
      ) : (
        <dl className="metadata">
          {Object.entries(record.metadata).map(([name, value]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd>{typeof value === "string" ? value : JSON.stringify(value)}</dd>
            </div>
          ))}
        </dl>
      )}
      <h2>Access</h2>
      {mine && record.state === "draft" ? (
        <AccessForm record={record} onSaved={reload} />
      ) : (
        <p>{accessSummary(record.access)}</p>
      )}
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
    </main>
  );
}
