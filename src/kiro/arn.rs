//! The shape of a Kiro profile ARN, `arn:${Partition}:codewhisperer:${Region}:${Account}:profile/${Id}`
//! (the one form AWS publishes, `kiro-api.md`), and of the AWS region names inside it. The
//! resources check their `profile_arn` arguments with [`ProfileArn::parse`], so a value the
//! client would send is one the plan accepted.

use super::wire::ProfileArn;

/// The service part of every profile ARN.
const SERVICE: &str = "codewhisperer";

/// The resource-type prefix of a profile ARN's resource part.
const PROFILE_PREFIX: &str = "profile/";

/// A profile id's longest accepted form. The ids Kiro issues are 12 characters; the limit only
/// keeps pasted garbage out.
const MAX_PROFILE_ID: usize = 128;

/// The AWS partitions and the region-name prefix each holds (longest prefix first; `aws` is
/// every region no other partition claims).
const PARTITIONS: &[(&str, &str)] = &[
    ("aws-iso-b", "us-isob-"),
    ("aws-iso-e", "eu-isoe-"),
    ("aws-iso-f", "us-isof-"),
    ("aws-iso", "us-iso-"),
    ("aws-us-gov", "us-gov-"),
    ("aws-cn", "cn-"),
    ("aws-eusc", "eusc-"),
];

/// The example every refusal shows.
const EXAMPLE: &str = "arn:aws:codewhisperer:us-east-1:123456789012:profile/ABCDEFGHIJKL";

/// The parts of a profile ARN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileArnParts<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub id: &'a str,
}

impl ProfileArn {
    /// A profile ARN, checked part by part: partition, service, region, account, resource
    /// type and id. The error says which part is wrong and shows the expected form.
    pub fn parse(arn: &str) -> Result<ProfileArn, String> {
        ProfileArn::parts_of(arn).map(|_| ProfileArn::from(arn))
    }

    /// The parts of `arn`, or why it is not a profile ARN.
    pub fn parts_of(arn: &str) -> Result<ProfileArnParts<'_>, String> {
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", partition, service, region, account, resource] = fields[..] else {
            return Err(format!(
                "{arn:?} is not an ARN; a Kiro profile ARN looks like {EXAMPLE} \
                 (kiro_profile.<name>.arn)."
            ));
        };
        if service != SERVICE {
            return Err(format!(
                "{arn:?} is an ARN of the service {service:?}; a Kiro profile ARN's service is \
                 \"{SERVICE}\", e.g. {EXAMPLE}."
            ));
        }
        let Some(region_partition) = partition_of_region(region) else {
            return Err(format!(
                "{arn:?} has the region {region:?}, which is not an AWS region name such as \
                 \"us-east-1\"."
            ));
        };
        if !is_partition(partition) {
            return Err(format!(
                "{arn:?} has the partition {partition:?}, which is not an AWS partition (\"aws\", \
                 \"aws-cn\", \"aws-us-gov\", …)."
            ));
        }
        if partition != region_partition {
            return Err(format!(
                "{arn:?} has the partition {partition:?}, but the region {region:?} is in the \
                 partition {region_partition:?}."
            ));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{arn:?} has the account {account:?}; an AWS account id is 12 digits."
            ));
        }
        let Some(id) = resource.strip_prefix(PROFILE_PREFIX) else {
            return Err(format!(
                "{arn:?} names the resource {resource:?}; a Kiro profile ARN ends in \
                 profile/<profile id>, e.g. {EXAMPLE}."
            ));
        };
        if !is_profile_id(id) {
            return Err(format!(
                "{arn:?} has the profile id {id:?}; a profile id is 1 to {MAX_PROFILE_ID} letters, \
                 digits, `-` or `_`."
            ));
        }
        Ok(ProfileArnParts {
            partition,
            region,
            account,
            id,
        })
    }
}

fn is_partition(name: &str) -> bool {
    name == "aws" || PARTITIONS.iter().any(|(p, _)| *p == name)
}

fn is_profile_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_PROFILE_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// True for an AWS region name: a 2-4 letter area, one or more lower-case words, and a
/// number, each joined by `-` (`us-east-1`, `us-gov-west-1`, `eusc-de-east-1`).
pub fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let [area, words @ .., number] = parts.as_slice() else {
        return false;
    };
    (2..=4).contains(&area.len())
        && area.bytes().all(|b| b.is_ascii_lowercase())
        && !words.is_empty()
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The partition a region belongs to, or `None` when `region` is not a region name.
pub fn partition_of_region(region: &str) -> Option<&'static str> {
    if !is_region_name(region) {
        return None;
    }
    Some(
        PARTITIONS
            .iter()
            .find(|(_, prefix)| region.starts_with(prefix))
            .map_or("aws", |(partition, _)| partition),
    )
}

/// The provider's `region` argument: an AWS region name.
pub fn check_region(region: &str) -> Result<(), String> {
    if is_region_name(region) {
        Ok(())
    } else {
        Err(format!(
            "{region:?} is not an AWS region name such as \"us-east-1\" or \"eu-central-1\"."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_arns_of_every_partition_parse_into_their_parts() {
        let parts = ProfileArn::parts_of(EXAMPLE).unwrap();
        assert_eq!(
            parts,
            ProfileArnParts {
                partition: "aws",
                region: "us-east-1",
                account: "123456789012",
                id: "ABCDEFGHIJKL",
            }
        );
        for ok in [
            "arn:aws:codewhisperer:eu-central-1:000000000000:profile/P1",
            "arn:aws-us-gov:codewhisperer:us-gov-west-1:123456789012:profile/ABC-def_1",
            "arn:aws-cn:codewhisperer:cn-north-1:123456789012:profile/X",
            "arn:aws-iso-b:codewhisperer:us-isob-east-1:123456789012:profile/X",
            "arn:aws-eusc:codewhisperer:eusc-de-east-1:123456789012:profile/X",
        ] {
            assert_eq!(ProfileArn::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn each_wrong_part_is_named() {
        for (bad, says) in [
            ("not-an-arn", "is not an ARN"),
            ("", "is not an ARN"),
            (
                "arn:aws:codewhisperer:us-east-1:123456789012",
                "is not an ARN",
            ),
            ("arn:aws:s3:::bucket", "the service \"s3\""),
            ("arn:aws:iam::123456789012:role/kiro", "the service \"iam\""),
            (
                "ARN:aws:codewhisperer:us-east-1:123456789012:profile/X",
                "is not an ARN",
            ),
            (
                "arn:azure:codewhisperer:us-east-1:123456789012:profile/X",
                "partition \"azure\"",
            ),
            (
                "arn:aws-cn:codewhisperer:us-east-1:123456789012:profile/X",
                "is in the partition \"aws\"",
            ),
            (
                "arn:aws:codewhisperer:cn-north-1:123456789012:profile/X",
                "is in the partition \"aws-cn\"",
            ),
            (
                "arn:aws:codewhisperer:useast1:123456789012:profile/X",
                "region \"useast1\"",
            ),
            (
                "arn:aws:codewhisperer::123456789012:profile/X",
                "region \"\"",
            ),
            (
                "arn:aws:codewhisperer:us-east-1:12345:profile/X",
                "account \"12345\"",
            ),
            (
                "arn:aws:codewhisperer:us-east-1:12345678901a:profile/X",
                "12 digits",
            ),
            (
                "arn:aws:codewhisperer:us-east-1:123456789012:application/X",
                "resource \"application/X\"",
            ),
            (
                "arn:aws:codewhisperer:us-east-1:123456789012:profile/",
                "profile id \"\"",
            ),
            (
                "arn:aws:codewhisperer:us-east-1:123456789012:profile/A B",
                "profile id \"A B\"",
            ),
            (
                "arn:aws:codewhisperer:us-east-1:123456789012:profile/A/B",
                "profile id \"A/B\"",
            ),
        ] {
            let err = ProfileArn::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "eu-central-1",
            "ap-southeast-5",
            "us-gov-west-1",
            "us-isob-east-1",
            "eusc-de-east-1",
            "cn-northwest-1",
        ] {
            assert!(check_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "useast1",
            "US-EAST-1",
            "us-east",
            "us-east-1a",
            "us--1",
            "u-east-1",
            "us east 1",
            "us-east-123",
        ] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
        assert_eq!(partition_of_region("us-gov-east-1"), Some("aws-us-gov"));
        assert_eq!(partition_of_region("us-iso-east-1"), Some("aws-iso"));
        assert_eq!(partition_of_region("us-east-1"), Some("aws"));
        assert_eq!(partition_of_region("nope"), None);
    }
}
