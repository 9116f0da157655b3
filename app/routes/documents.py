"""/v1/documents, /v1/jobs and /v1/collections: uploads (ingested by the library's one
worker, followed as jobs), the documents and the collections."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from pydantic import BaseModel, Field

from engine import ApiKey

from ..api_guard import MAX_ID, ApiError
from . import KEYED, ApiContext, errors
from .shapes import (CollectionList, CreatedCollection, DeletedCollection, DeletedDocument,
                     DocumentList, Job, ok)


class CollectionRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100)


def router(ctx: ApiContext) -> APIRouter:
    routes = APIRouter(tags=["rag"], responses=KEYED)
    service, jobs = ctx.service, ctx.jobs
    reader, writer = ctx.reader, ctx.writer

    @routes.post("/v1/documents", status_code=202,
                 responses={**ok(Job, 202), **errors(400, 403, 409)})
    def upload(files: list[UploadFile] = File(..., min_length=1),
               collection: str = Form("default"), key: ApiKey = writer):
        service.access.check_collection(collection, key.collections)  # 403 before reading
        received: dict[str, bytes] = {}  # in memory (the gate bounds the body), then the vault
        for upload in files:
            name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
            if not name or name.startswith("."):
                raise ApiError(422, "Every uploaded file needs a name.")
            if "\x00" in name or len(name.encode("utf-8", "replace")) > 255:
                raise ApiError(422, "A file name may not hold a NUL byte or be over 255 "
                                    "bytes long.")
            if name in received:
                raise ApiError(422, f"Two uploaded files are named {name}: one would "
                                    "replace the other. Rename one, or send them apart.")
            received[name] = upload.file.read()
        return jobs.submit(list(received.items()), collection)

    @routes.get("/v1/jobs/{job_id}", responses={**ok(Job), **errors(404)})
    def job(job_id: str, key: ApiKey = reader):
        found = jobs.get(job_id)
        if found is None or not service.access.may_use(found["collection"], key.collections):
            raise ApiError(404, f"There is no job {job_id}.", "not_found")
        return found

    @routes.get("/v1/documents", responses={**ok(DocumentList), **errors(403, 404)})
    def documents(collection: str | None = None, key: ApiKey = reader):
        return ctx.visible(key, {"documents": [
            d.__dict__ for d in service.library.documents(collection, key.collections)]})

    @routes.delete("/v1/documents/{document_id}",
                   responses={**ok(DeletedDocument), **errors(403, 404)})
    def delete_document(request: Request, document_id: int = Path(ge=1, le=MAX_ID),
                        key: ApiKey = writer):
        # another collection's document is not there for a scoped key: 404, as its id
        # could be guessed and a 403 would say that it exists
        service.library.delete_document(document_id, key.collections)
        request.state.documents = [document_id]
        return {"deleted": document_id}

    @routes.get("/v1/collections", responses=ok(CollectionList))
    def collections(key: ApiKey = reader):
        return ctx.visible(key, {"collections": [
            c.__dict__ for c in service.library.collections(key.collections)]})

    @routes.post("/v1/collections", status_code=201,
                 responses={**ok(CreatedCollection, 201), **errors(400, 403, 409)})
    def create_collection(body: CollectionRequest, key: ApiKey = writer):
        service.library.create_collection(body.name, key.collections)
        return {"created": body.name}

    @routes.delete("/v1/collections/{name}",
                   responses={**ok(DeletedCollection), **errors(400, 403, 404)})
    def delete_collection(name: str, key: ApiKey = writer):
        service.library.delete_collection(name, key.collections)
        return {"deleted": name}

    return routes
