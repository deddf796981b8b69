//! What a node serves over plain HTTP: today the public status page (`status_page`). Read-only,
//! and it reaches the state only through the cluster layer, like the gRPC services.

pub(crate) mod status_page;
