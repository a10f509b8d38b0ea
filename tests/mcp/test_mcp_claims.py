"""A mutation's arguments that contradict its tokens (the seed passes
`resource_type` and `identifier` beside them) are refused, naming both
values, and nothing is applied."""

from __future__ import annotations

import anyio
from mcp import Client
from mcp_harness import S3, Project, ok, refused, session, walk

BUCKET = "synthcoreai-claims-dev"


def test_arguments_that_contradict_the_tokens_are_refused(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            creds = await session(client)
            chain = await walk(client, creds, S3, properties={"BucketName": BUCKET})
            msg = refused(await client.call_tool("create_resource", chain.mutation_args(resource_type="AWS::SQS::Queue")))
            assert "AWS::SQS::Queue" in msg and "AWS::S3::Bucket" in msg and "nothing was applied" in msg, msg
            msg = refused(await client.call_tool("create_resource", chain.mutation_args(resource_type=S3, identifier="synthcoreai-other-dev")))
            assert "synthcoreai-other-dev" in msg and BUCKET in msg, msg
            assert project.resources("dev") == {} and project.applies_started() == 0
            # The same tokens with arguments that agree: applied.
            created = ok(await client.call_tool("create_resource", chain.mutation_args(resource_type=S3, identifier=BUCKET)))
            assert created["status"] == "SUCCESS" and created["identifier"] == BUCKET

    anyio.run(run)
    assert list(project.resources("dev")) == [BUCKET]
