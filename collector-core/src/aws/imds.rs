//! Where the EC2 instance metadata service is, and whether it may be asked, as the AWS SDKs
//! read it from the environment: the `ec2` detector and the S3 exporter's credential chain
//! both go by this.

use super::env::EnvLookup;

/// The SDK's default endpoint.
pub(crate) const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
/// The SDK's endpoint in `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`.
pub(crate) const IPV6_ENDPOINT: &str = "http://[fd00:ec2::254]";
/// The metadata service base URL: `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else the SDK default
/// for `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` (IPv4 unless `IPv6`).
pub(crate) fn endpoint(env: &EnvLookup) -> String {
    if let Some(e) = env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .map(|e| e.trim().trim_end_matches('/').to_owned())
        .filter(|e| !e.is_empty())
    {
        return e;
    }
    match env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") {
        Some(m) if m.trim().eq_ignore_ascii_case("ipv6") => IPV6_ENDPOINT.to_owned(),
        _ => DEFAULT_ENDPOINT.to_owned(),
    }
}

/// `AWS_EC2_METADATA_DISABLED=true` (any case), as the SDK reads it.
pub(crate) fn disabled(env: &EnvLookup) -> bool {
    env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::env::fixed as env;

    #[test]
    fn endpoint_and_disabled_from_the_environment() {
        assert_eq!(endpoint(&env(&[])), DEFAULT_ENDPOINT);
        assert_eq!(
            endpoint(&env(&[(
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                " http://127.0.0.1:1234/ "
            )])),
            "http://127.0.0.1:1234"
        );
        assert_eq!(
            endpoint(&env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")])),
            IPV6_ENDPOINT
        );
        assert!(disabled(&env(&[("AWS_EC2_METADATA_DISABLED", "TRUE")])));
        assert!(!disabled(&env(&[("AWS_EC2_METADATA_DISABLED", "1")])));
        assert!(!disabled(&env(&[])));
    }
}
