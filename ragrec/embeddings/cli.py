"""CLI of issue #4: generate-embeddings, similar, search, benchmark vectorstores/embeddings.

`register(app)` adds the commands to the main `ragrec` app; the benchmark commands join
an existing ``benchmark`` group when one is registered, else a new one is added. The
plain functions (`run_vectorstores_benchmark`, `run_embeddings_benchmark`) are in
`ragrec.benchmarks.vectorstores` / `ragrec.benchmarks.embeddings`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ragrec.config import get_settings

console = Console(stderr=True)

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="pgvector | qdrant | neo4j (default: fallback order)"),
]
TopK = Annotated[int, typer.Option("--top-k", min=1, max=1000)]
Category = Annotated[
    str | None, typer.Option("--category", help="category name at any level, e.g. Trousers")
]
MinPrice = Annotated[float | None, typer.Option("--min-price", min=0)]
MaxPrice = Annotated[float | None, typer.Option("--max-price", min=0)]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def register(app: typer.Typer) -> None:
    app.command("generate-embeddings")(generate_embeddings_cmd)
    app.command("similar")(similar_cmd)
    app.command("search")(search_cmd)
    bench = _benchmark_group(app)
    bench.command("vectorstores")(benchmark_vectorstores_cmd)
    bench.command("embeddings")(benchmark_embeddings_cmd)


def _benchmark_group(app: typer.Typer) -> typer.Typer:
    for group in app.registered_groups:
        if group.name == "benchmark" and group.typer_instance is not None:
            return group.typer_instance
    bench = typer.Typer(no_args_is_help=True, help="Benchmarks (tables + JSON).")
    app.add_typer(bench, name="benchmark")
    return bench


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error[/red] {exc}")
    return typer.Exit(2)


# -- generate-embeddings -------------------------------------------------------------------


def generate_embeddings_cmd(
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=4096)] = 64,
    image: Annotated[bool, typer.Option("--image/--no-image", help="embed images")] = True,
    text: Annotated[bool, typer.Option("--text/--no-text", help="embed product text")] = True,
    as_json: AsJson = False,
) -> None:
    """Embed product text and images into pgvector, Qdrant and Neo4j (resumable)."""
    from ragrec.embeddings.base import EncoderError
    from ragrec.embeddings.pipeline import generate_embeddings
    from ragrec.services import neo4j as neo4j_service
    from ragrec.vectorstores.base import VectorStoreError

    settings = get_settings()
    tasks: dict[str, Any] = {}
    with (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=as_json,
        ) as bar,
        neo4j_service.driver(settings) as driver,
    ):

        def progress(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=max(total, 1))
            bar.update(tasks[task], completed=done if total else 1)

        try:
            summary = generate_embeddings(
                settings, driver, batch_size=batch_size, image=image, text=text, progress=progress
            )
        except (EncoderError, VectorStoreError) as exc:
            raise _fail(exc) from exc
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2))
        return
    out = Console()
    table = Table(title=f"generate-embeddings ({summary.seconds:.1f}s)")
    for col in ("modality", "encoder", "index", "embedded", "already current", "no input"):
        table.add_column(col)
    table.add_column("pgvector / qdrant / neo4j")
    for name, mod in (("text", summary.text), ("image", summary.image)):
        if mod is None:
            continue
        counts = " / ".join(
            str(mod.store_counts.get(k, "down")) for k in ("pgvector", "qdrant", "neo4j")
        )
        table.add_row(
            name,
            mod.encoder_label,
            mod.index,
            f"{mod.embedded:,}",
            f"{mod.skipped_current:,}",
            f"{mod.without_input:,}",
            counts,
        )
    out.print(table)
    for name, mod in (("text", summary.text), ("image", summary.image)):
        if mod is None:
            continue
        for kind, reason in mod.unavailable.items():
            out.print(f"[yellow]{name}: {kind} unavailable[/yellow]: {reason}")
        for kind, n in mod.refilled.items():
            out.print(f"{name}: refilled {n:,} vectors into {kind} from the graph")
        for pid, reason in list(mod.rejects.items())[:10]:
            out.print(f"[yellow]{name}: rejected {pid}[/yellow]: {reason}")
    if summary.siglip_error:
        out.print(f"[yellow]SigLIP not in use[/yellow]: {summary.siglip_error}")


# -- similar / search ----------------------------------------------------------------------


def similar_cmd(
    image_path: Annotated[Path | None, typer.Argument(help="an image file")] = None,
    product: Annotated[str | None, typer.Option("--product", help="a product id")] = None,
    top_k: TopK = 10,
    store: StoreOpt = None,
    category: Category = None,
    min_price: MinPrice = None,
    max_price: MaxPrice = None,
    as_json: AsJson = False,
) -> None:
    """Products that look like IMAGE_PATH, or like product --product ID (itself excluded)."""
    if (image_path is None) == (product is None):
        raise _fail(ValueError("give exactly one of IMAGE_PATH or --product ID"))
    if image_path is not None and not image_path.is_file():
        raise _fail(FileNotFoundError(f"IMAGE_PATH {image_path} is not a file"))

    def run(retrieval: Any, filters: Any) -> Any:
        if product is not None:
            return retrieval.similar_to_product(product, top_k=top_k, store=store, filters=filters)
        return retrieval.similar_to_image(image_path, top_k=top_k, store=store, filters=filters)

    _retrieve(run, category, min_price, max_price, as_json)


def search_cmd(
    text: Annotated[str, typer.Argument(help='free text, e.g. "blue summer dress"')],
    category: Category = None,
    min_price: MinPrice = None,
    max_price: MaxPrice = None,
    top_k: TopK = 10,
    store: StoreOpt = None,
    as_json: AsJson = False,
) -> None:
    """Free-text product search (MiniLM offline, or SigLIP text when its weights are here)."""
    if not text.strip():
        raise _fail(ValueError("TEXT is empty"))
    _retrieve(
        lambda r, f: r.search_text(text, top_k=top_k, store=store, filters=f),
        category,
        min_price,
        max_price,
        as_json,
    )


def _retrieve(
    run: Any,
    category: str | None,
    min_price: float | None,
    max_price: float | None,
    as_json: bool,
) -> None:
    from pydantic import ValidationError

    from ragrec.embeddings.base import EncoderError
    from ragrec.retrieval.service import ProductNotFoundError, ProductRetrieval
    from ragrec.services import neo4j as neo4j_service
    from ragrec.vectorstores.base import SearchFilters, VectorStoreError

    settings = get_settings()
    try:
        filters = SearchFilters(category=category, min_price=min_price, max_price=max_price)
    except ValidationError as exc:
        raise _fail(ValueError(exc.errors()[0]["msg"])) from exc
    with neo4j_service.driver(settings) as driver:
        retrieval = ProductRetrieval(settings, driver)
        try:
            result = run(retrieval, None if filters.empty else filters)
        except (
            EncoderError,
            VectorStoreError,
            ProductNotFoundError,
            ValueError,
        ) as exc:
            raise _fail(exc) from exc
        finally:
            retrieval.close()
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    out = Console()
    out.print(
        f"[bold]{result.modality} search[/bold] via [cyan]{result.store}[/cyan] "
        f"({result.retriever}), index {result.index}; encoder: {result.encoder_label}"
    )
    for kind, reason in result.skipped_stores.items():
        out.print(f"[yellow]skipped {kind}[/yellow]: {reason}")
    table = Table()
    for col in ("#", "id", "name", "type", "colour", "price", "score"):
        table.add_column(col, justify="right" if col in ("#", "price", "score") else "left")
    table.add_column("co-bought/category/colour", justify="right")
    for rank, item in enumerate(result.items, 1):
        graph = f"{len(item.bought_together)}/{len(item.same_category)}/{len(item.same_colour)}"
        table.add_row(
            str(rank),
            item.id,
            item.name or "",
            item.product_type or "",
            item.colour or "",
            "" if item.price is None else f"{item.price:.4f}",
            f"{item.score:.4f}",
            graph,
        )
    out.print(table)


# -- benchmarks ----------------------------------------------------------------------------


def benchmark_vectorstores_cmd(
    n: Annotated[int, typer.Option("--n", min=100)] = 100_000,
    dim: Annotated[int, typer.Option("--dim", min=2, max=4096)] = 768,
    queries: Annotated[int, typer.Option("--queries", min=1)] = 1_000,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100)] = 10,
    ef_search: Annotated[int | None, typer.Option("--ef-search", min=1, max=1000)] = None,
    stores: Annotated[
        str, typer.Option("--stores", help="comma-separated subset")
    ] = "pgvector,qdrant,neo4j",
    seed: Annotated[int, typer.Option("--seed")] = 7,
    json_file: Annotated[Path | None, typer.Option("--json", help="JSON result file")] = None,
    keep: Annotated[bool, typer.Option("--keep", help="keep the benchmark indexes")] = False,
) -> None:
    """pgvector vs Qdrant vs Neo4j vs numpy brute force: build time, recall@k, QPS, latency."""
    from ragrec.benchmarks import vectorstores as bench

    settings = get_settings()
    result = bench.run_vectorstores_benchmark(
        settings,
        n=n,
        dim=dim,
        queries=queries,
        top_k=top_k,
        ef_search=ef_search,
        stores=[s.strip() for s in stores.split(",") if s.strip()],
        seed=seed,
        keep=keep,
        progress=lambda msg: console.print(f"[dim]{msg}[/dim]"),
    )
    Console().print(bench.result_table(result))
    target = json_file or bench.default_json_path(settings, n, dim)
    bench.write_json(result, target)
    Console().print(f"JSON written to {target}")


def benchmark_embeddings_cmd(
    images: Annotated[int, typer.Option("--images", min=1)] = 32,
    texts: Annotated[int, typer.Option("--texts", min=1)] = 256,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 32,
    image_dir: Annotated[Path, typer.Option("--image-dir")] = Path("data/sample/images"),
    json_file: Annotated[Path | None, typer.Option("--json", help="JSON result file")] = None,
) -> None:
    """Images/s and texts/s, batched vs a naive one-at-a-time loop, on this machine."""
    from ragrec.benchmarks import embeddings as bench

    result = bench.run_embeddings_benchmark(
        images=images,
        texts=texts,
        batch_size=batch_size,
        image_dir=image_dir,
        progress=lambda msg: console.print(f"[dim]{msg}[/dim]"),
    )
    Console().print(bench.result_table(result))
    if json_file:
        bench.write_json(result, json_file)
        Console().print(f"JSON written to {json_file}")
