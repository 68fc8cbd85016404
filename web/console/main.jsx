// Vellum's web console: React and react-jsonschema-form over the public API (./api.js).
import { StrictMode, useCallback, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import Form from "@rjsf/core";
import { ApiError, call, setToken, signedIn } from "./api.js";
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

function RecordList({ heading, query, empty }) {
  const [cursor, setCursor] = useState(null);
  const { data, error, loading } = useLoad(
    () => call("GET", `/records?${new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) })}`),
    [JSON.stringify(query), cursor],
  );
  return (
    <section aria-labelledby={`${heading}-heading`}>
      <h2 id={`${heading}-heading`}>{heading}</h2>
      <Problem error={error} />
      {loading && !data && <p className="quiet">Loading…</p>}
      {data && data.records.length === 0 && <p className="quiet">{empty}</p>}
      {data && data.records.length > 0 && (
        <ul className="records">
          {data.records.map((record) => (
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

function RecordView({ id }) {
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
  const entries = Object.values((record.files && record.files.entries) || {});
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
        {record.state === "draft" && (
          <button type="button" onClick={() => act("POST", `/records/${id}/publish`)}>
            Publish
          </button>
        )}
        {record.state === "published" && (
          <button type="button" onClick={() => act("POST", `/records/${id}/versions`)}>
            New version
          </button>
        )}
      </div>
      <h2>Files</h2>
      {entries.length === 0 ? (
        <p className="quiet">No files yet.</p>
      ) : (
        <ul className="files">
          {entries.map((entry) => (
            <li key={entry.key}>
              <a href={entry.links.preview}>{entry.key}</a> <span className="quiet">{entry.size} bytes</span>
            </li>
          ))}
        </ul>
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
  else if (route[0] === "records" && route[1]) view = <RecordView id={route[1]} />;
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
