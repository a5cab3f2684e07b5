"""Test helpers: databases, a real server, a graphql-transport-ws client, a probe table,
builders of the table rules' inputs."""
