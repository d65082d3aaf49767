//! Terraform's value rules for checks across attributes: every rule of every resource and
//! data source (`ExactlyOneOf`, `RequiredTogether`, … declared in the models) is run by real
//! `terraform validate` and `terraform plan` with each of its arguments known, null, unknown
//! from a variable (known at plan: set, or null), or unknown from another resource until
//! apply. Only combinations that are invalid once known may be refused; a rule with an
//! unknown argument waits. Then the apply-time half: a value unknown until apply that breaks a
//! rule is refused by the apply before any request, and the issue's conditional secret applies
//! both ways.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kiro_provider::framework::runtime::ProviderDef;
use kiro_provider::framework::schema::Block;
use kiro_provider::framework::validators::{ConfigRule, RuleKind};
use kiro_provider::provider::KiroProvider;
use serde_json::Value;

use crate::harness::Workspace;
use crate::kiro_fixtures::kiro_workspace;
use crate::sandbox::Sandbox;

const PROFILE_ARN: &str = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL";
const GUID: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";

/// How one argument of a rule is written in a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    /// A literal.
    Known,
    /// `null`, or the block left out.
    Null,
    /// `var.yes ? value : null`: unknown at validate, set at plan.
    VarSet,
    /// `var.no ? value : null`: unknown at validate, null at plan.
    VarNull,
    /// From `terraform_data.later.output`: unknown until apply.
    Later,
}

const ARGS: [Arg; 5] = [Arg::Known, Arg::Null, Arg::VarSet, Arg::VarNull, Arg::Later];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Validate,
    Plan,
}

/// What the argument is in a phase: `Some(set)` when known, `None` when unknown.
fn presence(arg: Arg, phase: Phase) -> Option<bool> {
    match (arg, phase) {
        (Arg::Known, _) => Some(true),
        (Arg::Null, _) => Some(false),
        (Arg::VarSet | Arg::VarNull | Arg::Later, Phase::Validate) => None,
        (Arg::VarSet, Phase::Plan) => Some(true),
        (Arg::VarNull, Phase::Plan) => Some(false),
        (Arg::Later, Phase::Plan) => None,
    }
}

/// The rule's meaning, written out here independently of the provider's code: `Some(false)`
/// when the known values break it, `None` while any value is unknown.
fn oracle(rule: &ConfigRule, presences: &[Option<bool>]) -> Option<bool> {
    if presences.iter().any(Option::is_none) {
        return None;
    }
    let set = presences.iter().filter(|p| **p == Some(true)).count();
    Some(match rule.kind {
        RuleKind::ExactlyOneOf => set == 1,
        RuleKind::AtLeastOneOf => set >= 1,
        RuleKind::AtMostOneOf => set <= 1,
        RuleKind::RequiredTogether => set == 0 || set == presences.len(),
    })
}

/// A block whose rules are tested: where it sits and what makes the rest of it valid.
struct Subject {
    /// `resource` or `data`.
    kind: &'static str,
    type_name: &'static str,
    /// The nested block the rules belong to, or `None` for the root.
    nested: Option<&'static str>,
    /// The other arguments of the resource (and, for a nested block, of that block).
    base: &'static str,
    nested_base: &'static str,
}

/// Every block with rules, and the arguments that make the rest of it valid. A block with
/// rules that is missing here fails `every_rule_has_a_subject`.
const SUBJECTS: &[Subject] = &[
    Subject {
        kind: "resource",
        type_name: "kiro_entra_provisioning",
        nested: None,
        base: "service_principal_id = \"8adf8e6e-67b2-4cf2-a259-e3dc5476c621\"\n  tenant_url = \"https://scim.example.com/scim/v2\"",
        nested_base: "",
    },
    Subject {
        kind: "resource",
        type_name: "kiro_entra_provisioning",
        nested: Some("attribute_mapping"),
        base: "service_principal_id = \"8adf8e6e-67b2-4cf2-a259-e3dc5476c621\"\n  tenant_url = \"https://scim.example.com/scim/v2\"\n  secret_token = \"tok\"",
        nested_base: "object = \"user\"\n    target_attribute = \"displayName\"",
    },
    Subject {
        kind: "resource",
        type_name: "kiro_subscription",
        nested: None,
        base: "profile_arn = \"arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL\"\n  principal_type = \"USER\"\n  plan = \"KIRO_PRO\"",
        nested_base: "",
    },
    Subject {
        kind: "data",
        type_name: "kiro_entra_user",
        nested: None,
        base: "",
        nested_base: "",
    },
    Subject {
        kind: "data",
        type_name: "kiro_entra_group",
        nested: None,
        base: "",
        nested_base: "",
    },
    Subject {
        kind: "data",
        type_name: "kiro_profile",
        nested: None,
        base: "",
        nested_base: "",
    },
    Subject {
        kind: "data",
        type_name: "kiro_user",
        nested: None,
        base: "profile_arn = \"arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL\"",
        nested_base: "",
    },
    Subject {
        kind: "data",
        type_name: "kiro_group",
        nested: None,
        base: "profile_arn = \"arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL\"",
        nested_base: "",
    },
];

/// A valid value for each argument that appears in a rule (HCL), and for a nested block the
/// arguments written inside it.
fn sample(name: &str) -> Sample {
    let s = |v: &str| Sample::Value(format!("\"{v}\""));
    match name {
        "secret_token" | "secret_token_wo" => s("tok"),
        "secret_token_wo_version" => Sample::Value("1".into()),
        "kiro_scim_token" => Sample::Block(format!("profile_arn = \"{PROFILE_ARN}\"")),
        "source_attribute" => s("objectId"),
        "expression" => s("Join(\\\" \\\", [givenName], [surname])"),
        "principal_id" | "object_id" | "external_id" => s(GUID),
        "user_principal_name" => s("dave@contoso.example"),
        "display_name" => s("Kiro Developers"),
        "user_name" => s("dave@contoso.example"),
        "name" => s("kiro-main"),
        "arn" => s(PROFILE_ARN),
        other => panic!("no sample value for {other}: add one to config_rules::sample"),
    }
}

enum Sample {
    Value(String),
    Block(String),
}

/// The argument `name` written as `arg`; `later` collects what `terraform_data.later` holds.
fn render(name: &str, arg: Arg, later: &mut BTreeMap<String, String>, indent: &str) -> String {
    match sample(name) {
        Sample::Value(v) => {
            let expr = match arg {
                Arg::Known => v,
                Arg::Null => "null".into(),
                Arg::VarSet => format!("var.yes ? {v} : null"),
                Arg::VarNull => format!("var.no ? {v} : null"),
                Arg::Later => {
                    later.insert(name.to_string(), v);
                    format!("terraform_data.later.output.{name}")
                }
            };
            format!("{indent}{name} = {expr}\n")
        }
        Sample::Block(body) => {
            let condition = match arg {
                Arg::Known => return format!("{indent}{name} {{\n{indent}  {body}\n{indent}}}\n"),
                Arg::Null => return String::new(),
                Arg::VarSet => "var.yes",
                Arg::VarNull => "var.no",
                Arg::Later => {
                    later.insert("on".into(), "true".into());
                    "terraform_data.later.output.on"
                }
            };
            format!(
                "{indent}dynamic \"{name}\" {{\n{indent}  for_each = {condition} ? [1] : []\n\
                 {indent}  content {{\n{indent}    {body}\n{indent}  }}\n{indent}}}\n"
            )
        }
    }
}

/// One block of the generated configuration: a rule's arguments written one way each.
struct Case {
    /// `type` or `type.nested_block`.
    what: String,
    /// The block whose rules the case is about.
    block: Block,
    rule: usize,
    args: Vec<Arg>,
    text: String,
}

impl Case {
    fn label(&self) -> String {
        let args: Vec<String> = self.block.rules[self.rule]
            .attributes
            .iter()
            .zip(&self.args)
            .map(|(name, arg)| format!("{name}={arg:?}"))
            .collect();
        format!("{} ({})", self.what, args.join(", "))
    }
}

/// The rules of one block: `(type, nested block) -> (block schema)`.
fn rule_blocks() -> Vec<(&'static str, String, Option<String>, Block)> {
    let provider = KiroProvider;
    let mut out = Vec::new();
    let resources = provider
        .resources()
        .into_iter()
        .map(|r| ("resource", r.type_name().to_string(), r.schema()));
    let data = provider
        .data_sources()
        .into_iter()
        .map(|d| ("data", d.type_name().to_string(), d.schema()));
    for (kind, type_name, schema) in resources.chain(data) {
        if !schema.block.rules.is_empty() {
            out.push((kind, type_name.clone(), None, schema.block.clone()));
        }
        for nested in &schema.block.blocks {
            if !nested.block.rules.is_empty() {
                out.push((
                    kind,
                    type_name.clone(),
                    Some(nested.type_name.clone()),
                    nested.block.clone(),
                ));
            }
        }
    }
    out
}

fn subject(kind: &str, type_name: &str, nested: Option<&str>) -> Option<&'static Subject> {
    SUBJECTS
        .iter()
        .find(|s| s.kind == kind && s.type_name == type_name && s.nested == nested)
}

/// Every combination of `n` arguments.
fn combinations(n: usize) -> Vec<Vec<Arg>> {
    (0..ARGS.len().pow(n as u32))
        .map(|mut i| {
            (0..n)
                .map(|_| {
                    let arg = ARGS[i % ARGS.len()];
                    i /= ARGS.len();
                    arg
                })
                .collect()
        })
        .collect()
}

/// Every case of every rule, and the variables and `terraform_data.later` they refer to.
fn generate() -> (Vec<Case>, String) {
    let mut cases = Vec::new();
    let mut later = BTreeMap::new();
    for (kind, type_name, nested, block) in rule_blocks() {
        let subject = subject(kind, &type_name, nested.as_deref())
            .unwrap_or_else(|| panic!("no Subject for {kind} {type_name} {nested:?}"));
        for (r, rule) in block.rules.iter().enumerate() {
            for args in combinations(rule.attributes.len()) {
                let label = format!("c{}", cases.len());
                let indent = if nested.is_some() { "    " } else { "  " };
                let body: String = rule
                    .attributes
                    .iter()
                    .zip(&args)
                    .map(|(name, arg)| render(name, *arg, &mut later, indent))
                    .collect();
                let text = match &nested {
                    None => format!(
                        "{kind} \"{type_name}\" \"{label}\" {{\n  {}\n{body}}}\n\n",
                        subject.base
                    ),
                    Some(block_name) => format!(
                        "{kind} \"{type_name}\" \"{label}\" {{\n  {}\n  {block_name} {{\n    {}\n{body}  }}\n}}\n\n",
                        subject.base, subject.nested_base
                    ),
                };
                let what = match &nested {
                    None => type_name.clone(),
                    Some(n) => format!("{type_name}.{n}"),
                };
                cases.push(Case {
                    what,
                    block: block.clone(),
                    rule: r,
                    args,
                    text,
                });
            }
        }
    }
    let inputs: Vec<String> = later
        .iter()
        .map(|(k, v)| format!("    {k} = {v}"))
        .collect();
    let shared = format!(
        "variable \"yes\" {{\n  type = bool\n}}\n\nvariable \"no\" {{\n  type = bool\n}}\n\n\
         resource \"terraform_data\" \"later\" {{\n  input = {{\n{}\n  }}\n}}\n",
        inputs.join("\n")
    );
    (cases, shared)
}

/// Writes `cases.tf` with the chosen cases; returns each one's first and last line.
fn write_cases(ws: &Workspace, cases: &[&Case]) -> Vec<(usize, usize)> {
    let mut text = String::new();
    let mut lines = Vec::new();
    let mut line = 1;
    for case in cases {
        let height = case.text.lines().count();
        lines.push((line, line + height - 1));
        line += height;
        text.push_str(&case.text);
    }
    ws.write("cases.tf", &text);
    lines
}

/// Whether any rule of the case's block is broken by the values known in `phase`.
fn broken(case: &Case, phase: Phase) -> bool {
    let rule = &case.block.rules[case.rule];
    case.block.rules.iter().any(|other| {
        let presences: Vec<Option<bool>> = other
            .attributes
            .iter()
            .map(|name| {
                rule.attributes
                    .iter()
                    .position(|n| n == name)
                    .map(|i| presence(case.args[i], phase))
                    .unwrap_or(Some(false))
            })
            .collect();
        oracle(other, &presences) == Some(false)
    })
}

/// Which of `cases` Terraform refused for breaking one of our rules, from its diagnostics.
fn refused(diagnostics: &[Value], lines: &[(usize, usize)]) -> Vec<bool> {
    let at = refused_lines(diagnostics);
    lines
        .iter()
        .map(|(first, last)| at.iter().any(|l| (first..=last).contains(&l)))
        .collect()
}

/// The lines of `cases.tf` where Terraform reported a rule of ours as broken.
fn refused_lines(diagnostics: &[Value]) -> Vec<usize> {
    diagnostics
        .iter()
        .filter(|d| d["severity"] == "error")
        .filter(|d| {
            matches!(
                d["summary"].as_str(),
                Some("Conflicting arguments" | "Missing argument")
            )
        })
        .filter(|d| d["range"]["filename"] == "cases.tf")
        .filter_map(|d| d["range"]["start"]["line"].as_u64().map(|l| l as usize))
        .collect()
}

/// Every case is generated from the rules the provider declares, so a block with rules that
/// the table above cannot write fails here rather than going untested.
#[test]
fn every_rule_has_a_subject() {
    let blocks = rule_blocks();
    assert!(
        blocks.len() >= 8,
        "the provider declares rules on {} blocks",
        blocks.len()
    );
    for (kind, type_name, nested, block) in blocks {
        assert!(
            subject(kind, &type_name, nested.as_deref()).is_some(),
            "{kind} {type_name} {nested:?} has rules but no Subject in config_rules.rs"
        );
        for rule in &block.rules {
            for name in &rule.attributes {
                let _ = sample(name);
            }
        }
    }
}

#[test]
fn rules_wait_for_unknown_values_and_refuse_only_invalid_known_ones() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let (cases, shared) = generate();
    let ws = kiro_workspace(&sandbox, &tenant, &account, &shared);

    // Validate: variables and other resources' attributes are unknown.
    let all: Vec<&Case> = cases.iter().collect();
    let lines = write_cases(&ws, &all);
    let validate = ws.run(&["validate", "-json", "-no-color"]);
    let validated: Value = serde_json::from_str(&validate.stdout)
        .unwrap_or_else(|e| panic!("validate -json: {e}\n{}", validate.describe()));
    let at_validate = refused(validated["diagnostics"].as_array().unwrap(), &lines);

    // Plan: variables are known, other resources' attributes are not. Terraform plans only a
    // configuration that validates, so the plan gets the cases that validate accepted.
    let planned: Vec<&Case> = cases
        .iter()
        .zip(&at_validate)
        .filter(|(_, refused)| !**refused)
        .map(|(case, _)| case)
        .collect();
    let lines = write_cases(&ws, &planned);
    let plan = ws.run(&[
        "plan",
        "-json",
        "-no-color",
        "-var",
        "yes=true",
        "-var",
        "no=false",
    ]);
    let plan_diagnostics: Vec<Value> = plan
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["type"] == "diagnostic")
        .map(|l| l["diagnostic"].clone())
        .collect();
    let at_plan = refused(&plan_diagnostics, &lines);

    let mut outcomes: Vec<(&Case, Phase, bool)> = cases
        .iter()
        .zip(&at_validate)
        .map(|(case, refused)| (case, Phase::Validate, *refused))
        .collect();
    outcomes.extend(
        planned
            .iter()
            .zip(&at_plan)
            .map(|(case, refused)| (*case, Phase::Plan, *refused)),
    );
    let mut wrong = Vec::new();
    // (rule, phase, outcome) -> cases, for the closing table.
    let mut matrix: BTreeMap<(String, &str, &str), usize> = BTreeMap::new();
    for (case, phase, refused) in outcomes {
        let expected = broken(case, phase);
        let unknown = case.args.iter().any(|a| presence(*a, phase).is_none());
        let outcome = match (expected, unknown) {
            (true, _) => "refused",
            (false, true) => "waits",
            (false, false) => "accepted",
        };
        let rule = format!("{}: {}", case.what, case.block.rules[case.rule].describe());
        let phase_name = match phase {
            Phase::Validate => "validate",
            Phase::Plan => "plan",
        };
        *matrix.entry((rule, phase_name, outcome)).or_default() += 1;
        if refused != expected {
            wrong.push(format!(
                "{} at {phase_name}: expected {}, got {}",
                case.label(),
                if expected { "refused" } else { "accepted" },
                if refused { "refused" } else { "accepted" },
            ));
        }
    }
    let mut table = String::new();
    for ((rule, phase, outcome), n) in &matrix {
        let _ = writeln!(table, "{rule} | {phase} | {outcome} | {n}");
    }
    println!("rule | phase | outcome | cases\n{table}");
    assert!(
        wrong.is_empty(),
        "{} cases went wrong:\n{}\n\nvalidate:\n{}\nplan:\n{}",
        wrong.len(),
        wrong.join("\n"),
        validate.describe(),
        plan.describe()
    );
    // Each phase met every outcome: refused, waiting and accepted.
    for phase in ["validate", "plan"] {
        for outcome in ["refused", "waits", "accepted"] {
            assert!(
                matrix.keys().any(|(_, p, o)| *p == phase && *o == outcome),
                "no case was {outcome} at {phase}"
            );
        }
    }
}

/// A rule whose argument was unknown at plan (it comes from another resource) is checked at
/// apply, once the value is known, and refuses before the provider makes any request.
#[test]
fn a_rule_that_waited_refuses_at_apply_before_any_request() {
    let sandbox = Sandbox::start();
    let tenant = sandbox.new_tenant();
    let account = sandbox.aws_account();
    let ws = kiro_workspace(
        &sandbox,
        &tenant,
        &account,
        &format!(
            r#"resource "terraform_data" "later" {{
  input = "a-token-known-only-at-apply"
}}

resource "kiro_entra_provisioning" "both" {{
  service_principal_id    = "{GUID}"
  tenant_url              = "https://scim.example.com/scim/v2"
  secret_token            = "tok"
  secret_token_wo         = terraform_data.later.output
  secret_token_wo_version = 1
}}
"#
        ),
    );
    ws.ok(&["validate", "-no-color"]);
    let plan = ws.ok(&["plan", "-no-color"]);
    assert!(plan.stdout.contains("2 to add"), "{}", plan.describe());
    sandbox.reset_counts();
    let apply = ws.fails(&["apply", "-auto-approve", "-no-color"]);
    let said = apply.output();
    assert!(
        said.contains("Conflicting arguments") && said.contains("secret_token_wo"),
        "{}",
        apply.describe()
    );
    // The provider signs in when it is configured; nothing reaches Graph or Kiro.
    assert_eq!(
        sandbox.count("kiro.") + sandbox.count("graph."),
        0,
        "requests made: {:#}",
        sandbox.counts()
    );
    assert!(
        ws.state()["values"]["root_module"]["resources"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["type"] != "kiro_entra_provisioning")),
        "nothing of the refused resource is in state"
    );
}
