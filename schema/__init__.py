"""The GraphQL surface: strawberry types, inputs, payload unions and the root schema."""
