//! OpenAPI Overlay 1.0: an ordered list of actions, each a JSONPath (RFC
//! 9535) `target` with either `update` (merged into every matched node) or
//! `remove: true`. An action that matches nothing is an error: it is either a
//! typo or a correction that no longer applies, and both need a person.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use serde_json_path::{JsonPath, PathElement};

use crate::RegenError;

#[derive(Debug, Clone, Deserialize)]
pub struct Overlay {
    pub overlay: String,
    pub info: Info,
    pub actions: Vec<Action>,
    #[serde(skip)]
    pub path: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Info {
    pub title: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Action {
    pub target: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub update: Option<Value>,
    #[serde(default)]
    pub remove: bool,
}

/// One step of a matched node's location.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Index(usize),
    Name(String),
}

impl Overlay {
    pub fn load(path: &Path) -> Result<Overlay, RegenError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| overlay_error(path, format!("cannot read it ({e})")))?;
        Overlay::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Overlay, RegenError> {
        let value = crate::load::parse(text, &path.display().to_string())
            .map_err(|e| overlay_error(path, e.to_string()))?;
        let mut overlay: Overlay = serde_json::from_value(value)
            .map_err(|e| overlay_error(path, format!("not an Overlay document: {e}")))?;
        overlay.path = path.into();
        if !overlay.overlay.starts_with("1.0.") {
            return Err(overlay_error(
                path,
                format!("overlay version {} is not 1.0.x", overlay.overlay),
            ));
        }
        for (index, action) in overlay.actions.iter().enumerate() {
            if action.remove == action.update.is_some() {
                let reason = format!(
                    "action {} (`{}`) needs exactly one of `update` and `remove: true`",
                    index + 1,
                    action.target
                );
                return Err(overlay_error(path, reason));
            }
        }
        Ok(overlay)
    }

    pub fn apply(&self, doc: &mut Value) -> Result<(), RegenError> {
        for (index, action) in self.actions.iter().enumerate() {
            self.apply_action(index + 1, action, doc)?;
        }
        Ok(())
    }

    fn apply_action(
        &self,
        index: usize,
        action: &Action,
        doc: &mut Value,
    ) -> Result<(), RegenError> {
        let path = JsonPath::parse(&action.target).map_err(|e| {
            overlay_error(
                &self.path,
                format!("action {index}: `{}` is not a JSONPath: {e}", action.target),
            )
        })?;
        let mut locations: Vec<Vec<Step>> = path
            .query_located(doc)
            .iter()
            .map(|node| node.location().iter().map(step).collect())
            .collect();
        if locations.is_empty() {
            return Err(RegenError::OverlayUnmatched {
                path: self.path.clone(),
                index,
                target: action.target.clone(),
            });
        }
        match &action.update {
            Some(update) => {
                for location in &locations {
                    if let Some(node) = node_mut(doc, location) {
                        merge(node, update.clone());
                    }
                }
            }
            None => {
                // Last first, so that removing one array element does not
                // shift the indices of the others still to remove.
                locations.sort();
                for location in locations.iter().rev() {
                    remove(doc, location);
                }
            }
        }
        Ok(())
    }
}

fn overlay_error(path: &Path, reason: String) -> RegenError {
    RegenError::Overlay {
        path: path.into(),
        reason,
    }
}

fn step(element: &PathElement<'_>) -> Step {
    match element {
        PathElement::Name(name) => Step::Name((*name).to_owned()),
        PathElement::Index(index) => Step::Index(*index),
    }
}

fn node_mut<'a>(doc: &'a mut Value, location: &[Step]) -> Option<&'a mut Value> {
    location.iter().try_fold(doc, |node, step| match step {
        Step::Name(name) => node.get_mut(name.as_str()),
        Step::Index(index) => node.get_mut(*index),
    })
}

fn remove(doc: &mut Value, location: &[Step]) {
    let Some((last, parent)) = location.split_last() else {
        *doc = Value::Null;
        return;
    };
    match (node_mut(doc, parent), last) {
        (Some(Value::Object(map)), Step::Name(name)) => {
            map.remove(name);
        }
        (Some(Value::Array(items)), Step::Index(index)) if *index < items.len() => {
            items.remove(*index);
        }
        _ => {}
    }
}

/// Objects merge key by key, recursively; anything else is replaced. An
/// array target gets the update appended (its elements, if it is an array).
pub fn merge(target: &mut Value, update: Value) {
    match (target, update) {
        (Value::Array(target), Value::Array(items)) => target.extend(items),
        (Value::Array(target), item) => target.push(item),
        (target, update) => merge_object(target, update),
    }
}

/// Below the top level, arrays are values like any other: replaced.
fn merge_object(target: &mut Value, update: Value) {
    match (target, update) {
        (Value::Object(target), Value::Object(update)) => {
            for (key, value) in update {
                match target.get_mut(&key) {
                    Some(existing @ Value::Object(_)) if value.is_object() => {
                        merge_object(existing, value)
                    }
                    _ => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (target, update) => *target = update,
    }
}
