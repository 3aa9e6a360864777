//! What pull, push and create report while they move a model's layers, as Ollama reports it
//! (`server/images.go` `PullModel`/`PushModel`, `server/download.go`, `server/create.go`): pure
//! functions from a model to its progress lines, no I/O.

use wire::ollama::ProgressResponse;

use crate::{scenario::ModelSpec, seed};

/// One blob of a model: its digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// `sha256:` + 64 hex digits.
    pub digest: String,
    /// Bytes.
    pub size: u64,
}

/// The blobs of a model: the weights, then template, license, parameters and the config, with
/// stable digests derived from the name.
pub fn layers(model: &ModelSpec) -> Vec<Layer> {
    let small = [
        ("template", 1_429),
        ("license", 7_711),
        ("params", 96),
        ("config", 561),
    ];
    let weights = model
        .size
        .saturating_sub(small.iter().map(|(_, size)| size).sum());
    std::iter::once(("weights", weights))
        .chain(small)
        .map(|(kind, size)| Layer {
            digest: format!(
                "sha256:{}",
                (0u64..4)
                    .map(|salt| format!(
                        "{:016x}",
                        seed::hash_parts(&[&model.name, kind, &salt.to_string()])
                    ))
                    .collect::<String>()
            ),
            size,
        })
        .collect()
}

fn status(text: impl Into<String>) -> ProgressResponse {
    ProgressResponse {
        status: text.into(),
        ..ProgressResponse::default()
    }
}

/// `pulling <12 hex>` lines for one layer: started, then every quarter for the weights, done.
fn transfer<'a>(verb: &str, layer: &'a Layer) -> impl Iterator<Item = ProgressResponse> + 'a {
    let steps: &[u64] = if layer.size > 1 << 20 {
        &[0, 1, 2, 3, 4]
    } else {
        &[0, 4]
    };
    let short = layer.digest.get(7..19).unwrap_or_default().to_owned();
    let verb = verb.to_owned();
    steps.iter().map(move |step| ProgressResponse {
        status: format!("{verb} {short}"),
        digest: layer.digest.clone(),
        total: layer.size,
        completed: layer.size * step / 4,
    })
}

/// A pull: manifest, each layer's transfer, verification, manifest written, success.
pub fn pull(model: &ModelSpec) -> Vec<ProgressResponse> {
    let layers = layers(model);
    std::iter::once(status("pulling manifest"))
        .chain(layers.iter().flat_map(|layer| transfer("pulling", layer)))
        .chain(["verifying sha256 digest", "writing manifest", "success"].map(status))
        .collect()
}

/// A push: manifest retrieved, each layer's upload, manifest pushed, success.
pub fn push(model: &ModelSpec) -> Vec<ProgressResponse> {
    let layers = layers(model);
    std::iter::once(status("retrieving manifest"))
        .chain(layers.iter().flat_map(|layer| transfer("pushing", layer)))
        .chain(["pushing manifest", "success"].map(status))
        .collect()
}

/// A create from an installed model: its layers reused, a new one per changed field, the
/// manifest written, success.
pub fn create(base: &ModelSpec, new_layers: &[&str]) -> Vec<ProgressResponse> {
    let reused = layers(base)
        .into_iter()
        .map(|layer| status(format!("using existing layer {}", layer.digest)));
    let created = new_layers.iter().map(|kind| {
        let digest = seed::hash_parts(&[&base.name, kind]);
        status(format!(
            "creating new layer sha256:{digest:016x}{digest:016x}{digest:016x}{digest:016x}"
        ))
    });
    reused
        .chain(created)
        .chain(["writing manifest", "success"].map(status))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ModelSpec {
        ModelSpec {
            name: "llama3.2:latest".into(),
            ..ModelSpec::default()
        }
    }

    #[test]
    fn a_pull_reports_every_layer_until_complete_then_success() {
        let lines = pull(&model());
        assert_eq!(lines[0].status, "pulling manifest");
        assert_eq!(lines.last().map(|l| l.status.as_str()), Some("success"));
        let weights: Vec<&ProgressResponse> = lines
            .iter()
            .filter(|l| l.digest == layers(&model())[0].digest)
            .collect();
        assert_eq!(weights.len(), 5);
        assert_eq!(weights[0].completed, 0);
        assert_eq!(weights[4].completed, weights[4].total);
        assert_eq!(
            weights[0].status,
            format!("pulling {}", &weights[0].digest[7..19])
        );
        let total: u64 = layers(&model()).iter().map(|l| l.size).sum();
        assert_eq!(total, model().size);
    }

    #[test]
    fn digests_are_stable_and_differ_by_model() {
        let other = ModelSpec {
            name: "qwen3:0.6b".into(),
            ..ModelSpec::default()
        };
        assert_eq!(layers(&model()), layers(&model()));
        assert_ne!(layers(&model())[0].digest, layers(&other)[0].digest);
        assert_eq!(layers(&model())[0].digest.len(), 71);
    }
}
