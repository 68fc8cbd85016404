// The console's Mirador page: stock Mirador 4 on the manifest the page names (no inline script).
const element = document.getElementById("viewer");
Mirador.viewer({
  id: "viewer",
  windows: [{ manifestId: element.dataset.manifest }],
  window: { allowClose: false, allowMaximize: false },
  workspaceControlPanel: { enabled: false },
});
