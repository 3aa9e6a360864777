//! `GET /v1/models` and `GET /v1/models/{id}`: what every backend serves, merged.

use axum::{
    Json,
    extract::{Path, State},
};
use wire::openai::{Model, ModelList};

use crate::{error::GatewayError, state::AppState};

pub async fn list(State(state): State<AppState>) -> Json<ModelList> {
    Json(ModelList {
        object: "list".to_owned(),
        data: state.catalog.list().await,
    })
}

pub async fn retrieve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Model>, GatewayError> {
    state.catalog.find(&id).await.map(Json)
}
