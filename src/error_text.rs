//! Error text shared by the API clients.

/// An error and its sources as one line (`outer: inner: root cause`):
/// transport errors say little at the top ("error sending request").
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}
