//! Webhook payload formats, one file per sender. Each parses and validates synchronously and
//! returns inbox items or a [`crate::item::FieldError`] naming the field.

pub mod distribution;
