//! Acceptance tests: the real `terraform` CLI drives the provider binary
//! against the offline sandbox. One binary, a fresh directory per test.

mod adopt;
mod aws_credentials;
mod bad_input;
mod config_rules;
mod configs;
mod docs_and_examples;
mod entra_api_scope;
mod entra_application;
mod entra_assignment;
mod entra_credentials;
mod entra_provisioning;
mod entra_redirect_uri;
mod example_workspace;
mod harness;
mod kill_points;
mod kiro_access_token;
mod kiro_domain;
mod kiro_fixtures;
mod kiro_profile;
mod kiro_subscription;
mod module;
mod multi_tenant;
mod plugin;
mod provider_config;
mod release_mirror;
mod sandbox;
mod sandbox_entra;
mod sandbox_kiro;
mod sandbox_provisioning;
mod sandbox_sync;
mod setup_check;
mod whole_guide;
