//! `GET /v1/models` and `GET /v1/models/{id}`: what every backend serves, merged — and, for a
//! key limited to some models, only those.

use axum::{
    Extension, Json,
    extract::{Path, State},
};
use wire::openai::{Model, ModelList};

use crate::{auth::Caller, error::GatewayError, state::AppState};

pub async fn list(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
) -> Json<ModelList> {
    let mut data = state.catalog.list().await;
    if let Some(Extension(Caller(key))) = caller {
        data.retain(|model| key.may_use(&model.id));
    }
    Json(ModelList {
        object: "list".to_owned(),
        data,
    })
}

pub async fn retrieve(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<Json<Model>, GatewayError> {
    if let Some(Extension(Caller(key))) = caller
        && !key.may_use(&id)
    {
        return Err(GatewayError::ModelNotFound(id));
    }
    state.catalog.find(&id).await.map(Json)
}
