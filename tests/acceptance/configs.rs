//! Configuration snippets and lifecycle steps that several resources' tests share.

use crate::harness::Workspace;
use crate::sandbox::{Sandbox, Tenant};

/// The provider block for the tenant, then `body`.
pub fn with_provider(sandbox: &Sandbox, tenant: &Tenant, body: &str) -> String {
    format!("{}\n{body}", sandbox.provider_block(tenant, None))
}

/// `kiro_entra_application.kiro` named `display_name`.
pub fn application(display_name: &str) -> String {
    format!(
        r#"resource "kiro_entra_application" "kiro" {{
  display_name = "{display_name}"
}}
"#
    )
}

/// A workspace with `body` (after the provider block), initialised.
pub fn workspace(sandbox: &Sandbox, tenant: &Tenant, body: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write_main(&with_provider(sandbox, tenant, body));
    ws.init();
    ws
}

/// A second working directory adopts an existing object through an
/// `import` block with `-generate-config-out`; the generated configuration
/// applies with nothing to change and plans clean. Returns the generated
/// configuration. The adopted object is then forgotten again (`state rm`),
/// so the first workspace still owns it.
pub fn adopt_with_import_block(
    sandbox: &Sandbox,
    tenant: &Tenant,
    resource_type: &str,
    id: &str,
) -> String {
    adopt_in(|body| workspace(sandbox, tenant, body), resource_type, id)
}

/// [`adopt_with_import_block`] in workspaces that `make` sets up from a
/// configuration body (e.g. with AWS credentials for the Kiro resources).
pub fn adopt_in(make: impl Fn(&str) -> Workspace, resource_type: &str, id: &str) -> String {
    let address = format!("{resource_type}.adopted");
    let adopt = make(&format!(
        "import {{\n  to = {address}\n  id = \"{id}\"\n}}\n"
    ));
    adopt.ok(&["plan", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = adopt.read("generated.tf");
    let apply = adopt.apply();
    assert!(
        apply
            .stdout
            .contains("1 imported, 0 added, 0 changed, 0 destroyed"),
        "the import block adopts without changes:\n{}\n{generated}",
        apply.stdout
    );
    adopt.assert_no_changes();
    adopt.ok(&["state", "rm", &address]);
    generated
}

/// After an import that could not read how the configuration writes something (a spelling,
/// `timeouts`): the plan updates `address` in place and replaces nothing, its apply writes
/// nothing to Kiro, and the next plan is clean.
pub fn assert_form_only_update(ws: &Workspace, sandbox: &Sandbox, address: &str) {
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2, "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains(&format!("{address} will be updated in-place"))
            && !plan.stdout.contains("replace"),
        "{}",
        plan.stdout
    );
    sandbox.reset_counts();
    ws.apply();
    let writes = sandbox.kiro_writes();
    assert!(writes.is_empty(), "no write to Kiro: {writes:?}");
    ws.assert_no_changes();
}

/// `terraform state rm` then `terraform import` of `address` with `id`; the
/// next plan is clean.
pub fn reimport(ws: &Workspace, address: &str, id: &str) {
    ws.ok(&["state", "rm", address]);
    ws.ok(&["import", "-no-color", address, id]);
    ws.assert_no_changes();
}

/// `address`'s object is in no state (an apply killed after making it, or state lost):
/// the next apply finds it by its natural key and takes it over with a warning, keeping
/// its id, and the plan after that is clean.
pub fn assert_taken_over(ws: &Workspace, address: &str) {
    let id = ws.attr(address, "id");
    ws.ok(&["state", "rm", address]);
    let out = ws.apply().flat_stdout();
    assert!(
        out.contains("Took over an object that already existed"),
        "{out}"
    );
    assert_eq!(ws.attr(address, "id"), id, "{out}");
    ws.assert_no_changes();
}

/// The plan warns, before anyone approves it, that a create will take over an object
/// that exists; returns the plan's output on one line.
pub fn assert_plan_warns_of_take_over(ws: &Workspace) -> String {
    let (_, plan) = ws.plan_exit_code();
    let planned = plan.flat_stdout();
    assert!(
        planned.contains("This create will take over an object that exists"),
        "{planned}"
    );
    planned
}

/// The plan wants to create `address` again (after an out-of-band delete).
pub fn assert_plans_create(ws: &Workspace, address: &str) {
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2, "{}", plan.stdout);
    assert!(
        plan.stdout.contains(&format!("{address} will be created")),
        "{}",
        plan.stdout
    );
}

/// The plan shows drift on `address` that mentions `needle`.
pub fn assert_plans_change(ws: &Workspace, address: &str, needle: &str) {
    let (code, plan) = ws.plan_exit_code();
    assert_eq!(code, 2, "expected changes\n{}", plan.stdout);
    assert!(plan.stdout.contains(address), "{}", plan.stdout);
    assert!(plan.stdout.contains(needle), "{}", plan.stdout);
}
