# Stardom Coach — a slim image with the `coach` command.
# Build: docker build -t stardom-coach .
# Run the terminal chat against PostgreSQL:
#   docker run -it -e DATABASE_URL=postgresql://user:pass@db:5432/coach stardom-coach chat
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY core ./core
COPY bot ./bot
COPY roadmaps ./roadmaps
COPY migrations ./migrations
RUN pip install --no-cache-dir --upgrade pip \
    && pip wheel --no-cache-dir --constraint constraints.txt --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 coach
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER coach
WORKDIR /home/coach
ENV PYTHONUNBUFFERED=1
ENTRYPOINT ["coach"]
CMD ["--help"]
