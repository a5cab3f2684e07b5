# The Allot API. Migrations run first, then the server.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY schema ./schema
COPY resolvers ./resolvers
COPY services ./services
COPY db ./db
COPY server ./server
RUN pip install --no-cache-dir .

ENV ALLOT_HOST=0.0.0.0 \
    ALLOT_PORT=8000 \
    ALLOT_SEED_DEMO=false
EXPOSE 8000
RUN useradd --create-home allot
USER allot
CMD ["sh", "-c", "allot migrate && allot run --no-seed"]
