//! Extensions: what runs beside the pipelines. One folder per type, named as in YAML.

pub(crate) mod health_check;
