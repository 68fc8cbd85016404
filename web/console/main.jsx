// Vellum's web console: React, react-jsonschema-form and Uppy over the public API (./api.js).
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import "./console.css";
import { call, onSignInEnded, setToken, signedIn } from "./api.js";
import { AccessSignIn } from "./access.jsx";
import { forgetUploads } from "./files.jsx";
import { NewRecord, RecordView, Records } from "./records.jsx";
import { useRoute } from "./router.js";
import { SignIn } from "./signin.jsx";

const root = document.getElementById("console");
const config = JSON.parse(root.dataset.config || "{}");

function App() {
  const [me, setMe] = useState(null);
  const [ended, setEnded] = useState(null); // why the last sign-in ended, if the API ended it
  const route = useRoute();
  useEffect(
    () =>
      onSignInEnded((message) => {
        setMe(null);
        setEnded(message);
      }),
    [],
  );
  const signedInAs = (person) => {
    setEnded(null);
    setMe(person);
  };
  if (!me || !signedIn()) return <SignIn config={config} ended={ended} onSignedIn={signedInAs} />;
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
              forgetUploads();
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

createRoot(root).render(<StrictMode>{config.access ? <AccessSignIn config={config} /> : <App />}</StrictMode>);
