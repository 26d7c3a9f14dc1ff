// The session clock in the top bar, in words a learner cannot misread: "3:59 left" reads as
// minutes and seconds to many people, when it meant hours and minutes.
export function timeLeftText(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return 'under a minute left';
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min left`;
  return m === 0 ? `${h} h left` : `${h} h ${m} min left`;
}
