export function CompareStrip() {
  return (
    <footer className="compare" aria-label="Before and after">
      <div>
        <div className="section-title">Before</div>
        <p className="muted">The model&apos;s output with every dial at rest appears here.</p>
      </div>
      <div>
        <div className="section-title">After</div>
        <p className="muted">
          The same input with your dials turned, so every difference is theirs.
        </p>
      </div>
    </footer>
  );
}
