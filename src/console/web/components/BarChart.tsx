/** A Chart.js bar chart; only the pieces it uses are registered, so the rest stays out of the bundle. */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface BarSeries {
  label: string;
  values: number[];
  color: string;
  /** Drawn as an outline (a target) rather than a solid bar. */
  outline?: boolean;
}

export function BarChart({ labels, series, label, max, unit = '' }: { labels: string[]; series: BarSeries[]; label: string; max?: number; unit?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar'> | null>(null);

  useEffect(() => {
    if (!canvas.current) return;
    const data = {
      labels,
      datasets: series.map((s) => ({
        label: s.label,
        data: s.values,
        backgroundColor: s.outline ? 'rgba(0,0,0,0)' : s.color,
        borderColor: s.color,
        borderWidth: s.outline ? 2 : 0,
        borderDash: s.outline ? [4, 3] : [],
      })),
    };
    if (chart.current) {
      chart.current.data = data;
      if (chart.current.options.scales?.['y']) chart.current.options.scales['y'].max = max;
      chart.current.update();
      return;
    }
    chart.current = new Chart(canvas.current, {
      type: 'bar',
      data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          y: { beginAtZero: true, ...(max !== undefined ? { max } : {}), ticks: { color: '#374151', callback: (v) => `${v}${unit}` }, grid: { color: '#e5e7eb' } },
          x: { ticks: { color: '#1f2937', autoSkip: false, maxRotation: 45 }, grid: { display: false } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { color: '#1f2937' } },
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label ?? ''}: ${ctx.parsed.y ?? 0}${unit}` } },
        },
      },
    });
  }, [JSON.stringify(labels), JSON.stringify(series), max, unit]);

  useEffect(
    () => () => {
      chart.current?.destroy();
      chart.current = null;
    },
    [],
  );

  return (
    <div class="chart-box">
      <canvas ref={canvas} role="img" aria-label={label}>
        {label}
      </canvas>
    </div>
  );
}
