//! Attribute actions shared by the `resource` and `attributes` processors: the Go
//! collector's `attraction` package (`insert`, `update`, `upsert`, `delete`, `hash`,
//! `extract`, `convert`).

use serde::{Deserialize, Serialize};

/// One action, as a list element under `resource.attributes` or `attributes.actions`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ActionConfig {
    /// The attribute acted on.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// A literal value (string, bool, int, double, list or map).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// A regular expression: keys for `delete`/`hash`, named groups for `extract`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pattern: String,
    /// Copy the value of this attribute.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from_attribute: String,
    /// Copy a client context value: `metadata.<key>`, `auth.<key>` or `client.address`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from_context: String,
    /// For `convert`: `int`, `double` or `string`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub converted_type: String,
    /// `insert`, `update`, `upsert`, `delete`, `hash`, `extract` or `convert`
    /// (case-insensitive).
    pub action: String,
}

/// Checks a list of actions with the Go collector's messages (`attraction.NewAttrProc`),
/// returning the first problem, as Go does.
pub(crate) fn validate_actions(actions: &[ActionConfig]) -> Option<String> {
    for (i, a) in actions.iter().enumerate() {
        let action = a.action.to_lowercase();
        if matches!(action.as_str(), "delete" | "hash") {
            if a.key.is_empty() && a.pattern.is_empty() {
                return Some(format!(
                    "error creating AttrProc due to missing required field (at least one of \"key\" and \"pattern\" have to be used) at the {i}-th actions"
                ));
            }
        } else if a.key.is_empty() {
            return Some(format!(
                "error creating AttrProc due to missing required field \"key\" at the {i}-th actions"
            ));
        }
        let sources = usize::from(a.value.is_some())
            + usize::from(!a.from_attribute.is_empty())
            + usize::from(!a.from_context.is_empty());
        let converted = || {
            format!(
                "error creating AttrProc. Action \"{action}\" does not use the \"converted_type\" field. This must not be specified for {i}-th action"
            )
        };
        let bad_pattern = |pattern: &str| match regex::Regex::new(pattern) {
            Ok(re) => Ok(re),
            Err(_) => Err(format!(
                "error creating AttrProc. Field \"pattern\" has invalid pattern: \"{pattern}\" to be set at the {i}-th actions"
            )),
        };
        match action.as_str() {
            "insert" | "update" | "upsert" => {
                if sources == 0 {
                    return Some(format!(
                        "error creating AttrProc. Either field \"value\", \"from_attribute\" or \"from_context\" setting must be specified for {i}-th action"
                    ));
                }
                if sources > 1 {
                    return Some(format!(
                        "error creating AttrProc due to multiple value sources being set at the {i}-th actions"
                    ));
                }
                if !a.pattern.is_empty() {
                    return Some(format!(
                        "error creating AttrProc. Action \"{action}\" does not use the \"pattern\" field. This must not be specified for {i}-th action"
                    ));
                }
                if !a.converted_type.is_empty() {
                    return Some(converted());
                }
            }
            "hash" | "delete" => {
                if a.value.is_some() || !a.from_attribute.is_empty() {
                    return Some(format!(
                        "error creating AttrProc. Action \"{action}\" does not use \"value\" or \"from_attribute\" field. These must not be specified for {i}-th action"
                    ));
                }
                if !a.pattern.is_empty()
                    && let Err(e) = bad_pattern(&a.pattern)
                {
                    return Some(e);
                }
                if !a.converted_type.is_empty() {
                    return Some(converted());
                }
            }
            "extract" => {
                if sources > 0 {
                    return Some(format!(
                        "error creating AttrProc. Action \"{action}\" does not use a value source field. These must not be specified for {i}-th action"
                    ));
                }
                if a.pattern.is_empty() {
                    return Some(format!(
                        "error creating AttrProc due to missing required field \"pattern\" for action \"{action}\" at the {i}-th action"
                    ));
                }
                if !a.converted_type.is_empty() {
                    return Some(converted());
                }
                let re = match bad_pattern(&a.pattern) {
                    Ok(re) => re,
                    Err(e) => return Some(e),
                };
                let names: Vec<_> = re.capture_names().skip(1).collect();
                if names.is_empty() {
                    return Some(format!(
                        "error creating AttrProc. Field \"pattern\" contains no named matcher groups at the {i}-th actions"
                    ));
                }
                if names.iter().any(Option::is_none) {
                    return Some(format!(
                        "error creating AttrProc. Field \"pattern\" contains at least one unnamed matcher group at the {i}-th actions"
                    ));
                }
            }
            "convert" => {
                if sources > 0 || !a.pattern.is_empty() {
                    return Some(format!(
                        "error creating AttrProc. Action \"{action}\" does not use value sources or \"pattern\" field. These must not be specified for {i}-th action"
                    ));
                }
                match a.converted_type.as_str() {
                    "" => {
                        return Some(format!(
                            "error creating AttrProc due to missing required field \"converted_type\" for action \"{action}\" at the {i}-th action"
                        ));
                    }
                    "int" | "double" | "string" => {}
                    other => {
                        return Some(format!(
                            "error creating AttrProc due to invalid value \"{other}\" in field \"converted_type\" for action \"{action}\" at the {i}-th action"
                        ));
                    }
                }
            }
            _ => {
                return Some(format!(
                    "error creating AttrProc due to unsupported action {action:?} at the {i}-th actions"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(action: &str) -> ActionConfig {
        ActionConfig {
            key: "k".into(),
            action: action.into(),
            ..Default::default()
        }
    }

    #[test]
    fn go_messages() {
        let ok = ActionConfig {
            value: Some(serde_json::json!("v")),
            ..act("UPSERT")
        };
        assert_eq!(validate_actions(std::slice::from_ref(&ok)), None);
        let cases: Vec<(ActionConfig, &str)> = vec![
            (
                act("insert"),
                "Either field \"value\", \"from_attribute\" or \"from_context\" setting must be specified for 0-th action",
            ),
            (
                ActionConfig {
                    from_attribute: "x".into(),
                    ..ok.clone()
                },
                "multiple value sources being set at the 0-th actions",
            ),
            (
                ActionConfig {
                    key: String::new(),
                    ..act("delete")
                },
                "at least one of \"key\" and \"pattern\" have to be used",
            ),
            (
                ActionConfig {
                    pattern: "(".into(),
                    ..act("hash")
                },
                "Field \"pattern\" has invalid pattern: \"(\"",
            ),
            (
                ActionConfig {
                    pattern: "(a)(b)".into(),
                    ..act("extract")
                },
                "contains at least one unnamed matcher group",
            ),
            (
                ActionConfig {
                    pattern: "ab".into(),
                    ..act("extract")
                },
                "contains no named matcher groups",
            ),
            (
                act("convert"),
                "missing required field \"converted_type\" for action \"convert\"",
            ),
            (
                ActionConfig {
                    converted_type: "bool".into(),
                    ..act("convert")
                },
                "invalid value \"bool\" in field \"converted_type\"",
            ),
            (
                act("explode"),
                "unsupported action \"explode\" at the 0-th actions",
            ),
        ];
        for (a, want) in cases {
            let got = validate_actions(&[ok.clone(), a]).unwrap_or_default();
            let want = want.replace("0-th", "1-th");
            assert!(got.contains(&want), "{got} lacks {want}");
        }
    }
}
