//! `kiro_setup_check`, the doctor, in a `check` block next to `examples/complete`: after the
//! whole guide in the sandbox it finds nothing; then each link of the chain is broken in
//! the sandbox, one at a time (a portal change to the application, a console change to the
//! profile, the job paused or quarantined, a mapping edited, someone missing in Kiro…), and
//! `terraform plan` warns with that link's finding and its fix; restored, the next plan is
//! quiet again.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Value, json};

use crate::example_workspace::complete_example;
use crate::harness::{Run, Workspace};
use crate::kiro_fixtures::REGION;
use crate::sandbox::{Sandbox, Tenant};
use crate::sandbox_kiro::{AwsAccount, kiro_call};

/// The doctor next to `examples/complete`, in a `check` block. Not in the example itself: a
/// `check` block's data source is read again during every apply, so `plan
/// -detailed-exitcode` answers 2 ("changes") even when nothing changes, which would fail the
/// example's no-change plan (`examples/run-sandbox.sh`). It refers to what the guide made
/// (rather than `depends_on`, which would put every read off until apply while anything
/// upstream changes), so it is read once the people are in and subscribed.
const DOCTOR: &str = r#"
check "kiro_setup" {
  data "kiro_setup_check" "guide" {
    application   = kiro_entra_application.kiro.client_id
    profile_arn   = kiro_subscription.group.profile_arn
    scopes        = [for s in kiro_entra_api_scope.kiro : s.value]
    redirect_uris = [for r in kiro_entra_redirect_uri.kiro : r.uri]
    principals    = [kiro_entra_assignment.group.principal_id, kiro_entra_assignment.user.principal_id]
  }

  assert {
    condition     = data.kiro_setup_check.guide.ok
    error_message = data.kiro_setup_check.guide.summary
  }
}
"#;

const CHECK_FAILED: &str = "Check block assertion failed";
/// Terraform's progress line when it reads the doctor during the plan. (A check block's data
/// source is also read again during apply, whatever the plan did.)
const READ_AT_PLAN: &str = "data.kiro_setup_check.guide: Read complete";

/// The check ids the data source can report (its documentation lists them).
const CHECK_IDS: &[&str] = &[
    "application",
    "token_version",
    "identifier_uri",
    "scope_missing",
    "scope_disabled",
    "redirect_uri",
    "profile",
    "profile_status",
    "profile_issuer",
    "profile_client_id",
    "domain_missing",
    "domain_status",
    "service_principal",
    "provisioning_job",
    "provisioning_state",
    "provisioning_quarantine",
    "provisioning_last_cycle",
    "tenant_url",
    "mapping_rejected",
    "mapping_external_id",
    "assignment",
    "principal_missing_in_kiro",
    "external_id_mismatch",
    "subscription",
    "subscription_principal_gone",
];

/// The guide applied in the sandbox, with what the breaks need to reach.
struct Guide<'a> {
    sandbox: &'a Sandbox,
    tenant: Tenant,
    account: AwsAccount,
    ws: Workspace,
    app: Value,
    sp_id: String,
    arn: String,
}

impl Guide<'_> {
    fn app_id(&self) -> &str {
        self.app["id"].as_str().unwrap()
    }

    fn drift_app(&self, patch: Value) {
        self.sandbox
            .drift_application(&self.tenant, self.app_id(), patch);
    }

    fn job_path(&self) -> String {
        let job = self.sandbox.sync_job(&self.tenant, &self.sp_id).unwrap();
        format!(
            "servicePrincipals/{}/synchronization/jobs/{}",
            self.sp_id,
            job["job"]["id"].as_str().unwrap()
        )
    }

    fn job_action(&self, action: &str) {
        let token = self.sandbox.graph_token(&self.tenant);
        let path = format!("{}/{action}", self.job_path());
        self.sandbox.graph(&token, "POST", &path, Some(json!({})));
    }

    fn set_job_status(&self, status: Value) {
        self.sandbox.call(
            "PATCH",
            &format!(
                "tenants/{}/service_principals/{}/synchronization/job",
                self.tenant.tenant_id, self.sp_id
            ),
            Some(status),
        );
    }

    fn kiro(&self) -> Value {
        self.sandbox.kiro_objects(&self.account, REGION)
    }

    /// A synced user of the group (not the extra user, whom `data.kiro_user` looks up).
    fn synced_member(&self) -> Value {
        let developers = self.sandbox.seeded_group(&self.tenant, "Kiro Developers");
        let member = developers["members"][0].as_str().unwrap().to_string();
        self.kiro()["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["externalId"] == member.as_str())
            .cloned()
            .expect("the member arrived in Kiro")
    }

    /// `terraform plan` (with `-refresh=false` unless `refresh`), which must succeed, and the
    /// check ids its warning names.
    fn plan(&self, refresh: bool) -> (Run, Vec<&'static str>) {
        let args: &[&str] = if refresh {
            &["plan", "-no-color"]
        } else {
            &["plan", "-no-color", "-refresh=false"]
        };
        let run = self.ws.ok(args);
        let text = run.output();
        let ids = CHECK_IDS
            .iter()
            .copied()
            .filter(|id| finding_lines(&text).any(|l| l.starts_with(&format!("[{id}]"))))
            .collect();
        (run, ids)
    }
}

/// The lines of a plan's output, without the diagnostic's frame.
fn finding_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.trim_start_matches(['│', ' ']).trim_end())
}

/// The fix the warning gives for `check`: its line from "Fix: " on, with any wrapped
/// continuation lines.
fn fix_of(text: &str, check: &str) -> Option<String> {
    let mut lines = finding_lines(text).skip_while(|l| !l.starts_with(&format!("[{check}]")));
    let mut finding = lines.next()?.to_string();
    for l in lines {
        let next_finding = CHECK_IDS.iter().any(|id| l.starts_with(&format!("[{id}]")));
        if l.is_empty() || next_finding || l.starts_with('╵') {
            break;
        }
        finding.push(' ');
        finding.push_str(l);
    }
    finding.split_once("Fix: ").map(|(_, fix)| fix.to_string())
}

/// One link of the chain: how to break it, what the doctor must say, how to restore it.
struct Link<'g> {
    link: &'static str,
    check: &'static str,
    /// Words the fix must contain.
    fix_says: &'static str,
    break_it: Box<dyn Fn() + 'g>,
    restore: Box<dyn Fn() + 'g>,
}

fn application_links<'g>(g: &'g Guide<'g>) -> Vec<Link<'g>> {
    let identifier_uris = g.app["identifierUris"].clone();
    let scopes = g.app["api"]["oauth2PermissionScopes"].clone();
    let disabled: Vec<Value> = scopes
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if s["value"] == "codewhisperer:completions" {
                s["isEnabled"] = json!(false);
            }
            s
        })
        .collect();
    let public_client = g.app["publicClient"]["redirectUris"].clone();
    vec![
        Link {
            link: "access token version set to 1 in the manifest",
            check: "token_version",
            fix_says: "requested_access_token_version = 2",
            break_it: Box::new(|| g.drift_app(json!({"api": {"requestedAccessTokenVersion": 1}}))),
            restore: Box::new(|| g.drift_app(json!({"api": {"requestedAccessTokenVersion": 2}}))),
        },
        Link {
            link: "Application ID URI removed",
            check: "identifier_uri",
            fix_says: "Set identifier_uri",
            break_it: Box::new(|| g.drift_app(json!({"identifierUris": []}))),
            restore: Box::new(move || g.drift_app(json!({"identifierUris": identifier_uris}))),
        },
        Link {
            link: "scope codewhisperer:completions disabled",
            check: "scope_disabled",
            fix_says: "enabled = true",
            break_it: Box::new(move || {
                g.drift_app(json!({"api": {"oauth2PermissionScopes": disabled}}))
            }),
            restore: Box::new(move || {
                g.drift_app(json!({"api": {"oauth2PermissionScopes": scopes}}))
            }),
        },
        Link {
            link: "redirect URI http://localhost/oauth/callback removed",
            check: "redirect_uri",
            fix_says: "kiro_entra_redirect_uri with uri = \"http://localhost/oauth/callback\"",
            break_it: Box::new(|| {
                g.drift_app(
                    json!({"publicClient": {"redirectUris": ["kiro://kiro.oauth/callback"]}}),
                )
            }),
            restore: Box::new(move || {
                g.drift_app(json!({"publicClient": {"redirectUris": public_client}}))
            }),
        },
    ]
}

fn profile_links<'g>(g: &'g Guide<'g>) -> Vec<Link<'g>> {
    let client_id = g.app["appId"].as_str().unwrap().to_string();
    let issuer = format!(
        "https://login.microsoftonline.com/{}/v2.0",
        g.tenant.tenant_id
    );
    vec![
        Link {
            link: "profile trusting another application's client id",
            check: "profile_client_id",
            fix_says: "replace the profile with client_id",
            break_it: Box::new(|| {
                g.sandbox.drift_profile(
                    &g.arn,
                    json!({"clientId": "00000000-0000-4000-8000-00000000dead"}),
                );
            }),
            restore: Box::new(move || {
                g.sandbox
                    .drift_profile(&g.arn, json!({"clientId": client_id}));
            }),
        },
        Link {
            link: "profile trusting another tenant's issuer",
            check: "profile_issuer",
            fix_says: "replace the profile with issuer_url",
            break_it: Box::new(|| {
                let other =
                    "https://login.microsoftonline.com/00000000-0000-4000-8000-00000000beef/v2.0";
                g.sandbox.drift_profile(&g.arn, json!({"issuerUrl": other}));
            }),
            restore: Box::new(move || {
                g.sandbox
                    .drift_profile(&g.arn, json!({"issuerUrl": issuer}));
            }),
        },
    ]
}

fn provisioning_links<'g>(g: &'g Guide<'g>) -> Vec<Link<'g>> {
    let last =
        g.sandbox.sync_job(&g.tenant, &g.sp_id).unwrap()["job"]["status"]["lastExecution"].clone();
    const DEPARTMENT: &str =
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
    let mapping = |target: &'static str, source: Option<&'static str>| {
        move || {
            g.sandbox
                .edit_mapping_in_portal(&g.tenant, &g.sp_id, "users", target, source)
        }
    };
    vec![
        Link {
            link: "provisioning paused",
            check: "provisioning_state",
            fix_says: "enabled = true",
            break_it: Box::new(|| g.job_action("pause")),
            restore: Box::new(|| g.job_action("start")),
        },
        Link {
            link: "provisioning job in quarantine",
            check: "provisioning_quarantine",
            fix_says: "rotate it",
            break_it: Box::new(|| {
                g.set_job_status(json!({"quarantine": {
                    "reason": "EncounteredQuarantineException",
                    "error": {"code": "SystemForCrossDomainIdentityManagementCredentialsInvalid",
                              "message": "401 Unauthorized: the SCIM token was revoked"}}}))
            }),
            restore: Box::new(|| g.set_job_status(json!({"quarantine": null}))),
        },
        Link {
            link: "last provisioning cycle failed",
            check: "provisioning_last_cycle",
            fix_says: "provisioning logs",
            break_it: Box::new(|| {
                g.set_job_status(json!({"lastExecution": {
                    "state": "Failed", "timeBegan": "2026-12-02T10:00:00Z",
                    "error": {"code": "SystemForCrossDomainIdentityManagementServiceUnreachable",
                              "message": "the SCIM endpoint did not answer"}}}))
            }),
            restore: Box::new(move || g.set_job_status(json!({"lastExecution": last}))),
        },
        Link {
            link: "department mapped for users",
            check: "mapping_rejected",
            fix_says: "remove_unsupported_mappings = true",
            break_it: Box::new(mapping(DEPARTMENT, Some("[department]"))),
            restore: Box::new(mapping(DEPARTMENT, None)),
        },
        Link {
            link: "users' externalId mapped from mail",
            check: "mapping_external_id",
            fix_says: "Map externalId from [objectId]",
            break_it: Box::new(mapping("externalId", Some("[mail]"))),
            restore: Box::new(mapping("externalId", Some("[objectId]"))),
        },
    ]
}

fn kiro_identity_links<'g>(g: &'g Guide<'g>) -> Vec<Link<'g>> {
    let member = g.synced_member();
    let user_name = member["userName"].as_str().unwrap().to_string();
    let object_id = member["externalId"].as_str().unwrap().to_string();
    let (name, id) = (user_name.clone(), object_id.clone());
    let leaver = Rc::new(RefCell::new(None::<(String, String)>));
    let made = leaver.clone();
    vec![
        Link {
            link: "a group member deleted in Kiro",
            check: "principal_missing_in_kiro",
            fix_says: "provision_on_demand = true",
            break_it: Box::new(move || {
                let member = g.synced_member();
                g.sandbox
                    .delete_kiro_user(&g.arn, member["id"].as_str().unwrap());
            }),
            restore: Box::new(move || {
                g.sandbox.kiro_user(&g.arn, &name, &id);
            }),
        },
        Link {
            link: "a group member's externalId not its object id",
            check: "external_id_mismatch",
            fix_says: "Map externalId from [objectId] for users",
            break_it: Box::new({
                let name = user_name.clone();
                move || {
                    g.sandbox.kiro_user(&g.arn, &name, "EMP-0042");
                }
            }),
            restore: Box::new(move || {
                g.sandbox.kiro_user(&g.arn, &user_name, &object_id);
            }),
        },
        Link {
            link: "a subscribed user deleted in Entra",
            check: "subscription_principal_gone",
            fix_says: "Remove the subscription",
            break_it: Box::new(move || *made.borrow_mut() = Some(subscribe_a_leaver(g))),
            restore: Box::new({
                move || {
                    let (kiro_id, _) = leaver.borrow_mut().take().unwrap();
                    g.sandbox.delete_assignment_out_of_band(&g.arn, &kiro_id);
                    g.sandbox.delete_kiro_user(&g.arn, &kiro_id);
                }
            }),
        },
    ]
}

/// A person synced into Kiro and subscribed, then deleted in Entra (and not deprovisioned):
/// `(Kiro id, Entra object id)`.
fn subscribe_a_leaver(g: &Guide<'_>) -> (String, String) {
    let person = g.sandbox.create_user(&g.tenant, "Leaver");
    let object_id = person["id"].as_str().unwrap().to_string();
    let upn = person["userPrincipalName"].as_str().unwrap();
    let synced = g.sandbox.kiro_user(&g.arn, upn, &object_id);
    let kiro_id = synced["id"].as_str().unwrap().to_string();
    let (status, answer) = kiro_call(
        g.sandbox,
        &g.account,
        "AmazonQDeveloperService.CreateAssignment",
        json!({"profileArn": g.arn, "principalId": kiro_id, "principalType": "USER",
               "subscriptionType": "KIRO_PRO"}),
    );
    assert_eq!(status, 200, "{answer}");
    g.sandbox.delete_user(&g.tenant, &object_id);
    (kiro_id, object_id)
}

/// The domain FAILED with no record in DNS; restored the way the fix says: added again.
fn domain_link<'g>(g: &'g Guide<'g>) -> Link<'g> {
    Link {
        link: "domain FAILED (no TXT record in DNS)",
        check: "domain_status",
        fix_says: "Publish the DNS record",
        break_it: Box::new(|| {
            g.sandbox.fail_domain(&g.arn, "kirosandbox.example");
        }),
        restore: Box::new(|| {
            g.sandbox
                .delete_domain_out_of_band(&g.arn, "kirosandbox.example");
            g.ws.apply();
        }),
    }
}

/// The plan's warning for a broken link: its output, and which plan showed it. A link whose
/// drift Terraform's refresh sees makes Terraform plan the repair itself; the doctor, which
/// reads what the guide made, is then put off until apply ("depends on a resource with
/// changes pending", or, when the profile is to be replaced, "config refers to values not
/// yet known"), and a plan without refresh shows its finding.
fn diagnose(g: &Guide<'_>, link: &Link<'_>) -> (String, &'static str) {
    let (plain, ids) = g.plan(true);
    let text = plain.output();
    let (text, ids, read_at) = if text.contains(CHECK_FAILED) {
        (text, ids, "plan")
    } else {
        assert!(
            !text.contains(READ_AT_PLAN),
            "{}: no warning, and the doctor was not put off\n{text}",
            link.link
        );
        let (run, ids) = g.plan(false);
        (run.output(), ids, "plan -refresh=false")
    };
    assert!(
        text.contains(CHECK_FAILED),
        "{}: no warning\n{text}",
        link.link
    );
    assert_eq!(ids, [link.check], "{}: one finding\n{text}", link.link);
    (text, read_at)
}

fn apply_the_guide(sandbox: &Sandbox) -> Guide<'_> {
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    sandbox.set_domain_auto_verify(Some(300));
    let dave = sandbox
        .users(&tenant)
        .into_iter()
        .find(|u| u["givenName"] == "Dave")
        .unwrap();
    let mut ws = complete_example(sandbox, &tenant, &account);
    ws.write("doctor.tf", DOCTOR);
    ws.env(
        "TF_VAR_kiro_user",
        dave["userPrincipalName"].as_str().unwrap(),
    );
    ws.init();
    let apply = ws.apply();
    assert!(
        !apply.output().contains(CHECK_FAILED),
        "the doctor is quiet after the guide:\n{}",
        apply.output()
    );
    let app = sandbox.application(
        &tenant,
        &ws.attr("kiro_entra_application.kiro", "object_id"),
    );
    let sp_id = ws.attr("kiro_entra_application.kiro", "service_principal_id");
    let arn = ws.attr("kiro_profile.kiro", "arn");
    Guide {
        sandbox,
        tenant,
        account,
        ws,
        app,
        sp_id,
        arn,
    }
}

#[test]
fn the_doctor_names_each_broken_link_and_its_fix() {
    let sandbox = Sandbox::start();
    let guide = apply_the_guide(&sandbox);
    let (run, ids) = guide.plan(true);
    assert!(
        ids.is_empty()
            && !run.output().contains(CHECK_FAILED)
            && run.output().contains(READ_AT_PLAN),
        "no finding after the whole guide:\n{}",
        run.output()
    );
    let g = &guide;
    let mut links = application_links(g);
    links.extend(profile_links(g));
    links.extend(provisioning_links(g));
    links.extend(kiro_identity_links(g));
    links.push(domain_link(g));
    let mut table = Vec::new();
    for link in &links {
        (link.break_it)();
        let (text, read_at) = diagnose(g, link);
        let fix = fix_of(&text, link.check).unwrap_or_default();
        assert!(
            fix.contains(link.fix_says),
            "{}: the fix says {:?}\n{text}",
            link.link,
            link.fix_says
        );
        let row = format!("| {} | {read_at} | `{}` | {} |", link.link, link.check, fix);
        eprintln!("{row}");
        table.push(row);
        (link.restore)();
        let (run, ids) = g.plan(true);
        let quiet = ids.is_empty() && run.output().contains(READ_AT_PLAN);
        assert!(quiet, "{} restored:\n{}", link.link, run.output());
    }
    println!(
        "| broken link | doctor read at | finding | fix |\n|---|---|---|---|\n{}",
        table.join("\n")
    );
    guide.ws.destroy();
}
