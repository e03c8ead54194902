/** The app's frame: navigation, the wallet, the oracle banner, and the pages (routes in the fragment). */
import { lazy, Suspense } from "react";
import { HashRouter, NavLink, Route, Routes } from "react-router-dom";

import { WalletBar } from "./components/Wallet";
import { useApp } from "./lib/context";
import { useOracleHealth } from "./lib/useData";
import { Overview } from "./pages/Overview";

// The overview comes with the first load; every other page (and its libraries, e.g. Recharts on
// the device page) loads when it is first opened.
const Device = lazy(() => import("./pages/Device").then((m) => ({ default: m.Device })));
const Epochs = lazy(() => import("./pages/Epochs").then((m) => ({ default: m.Epochs })));
const Hex = lazy(() => import("./pages/Hex").then((m) => ({ default: m.Hex })));
const Network = lazy(() => import("./pages/Network").then((m) => ({ default: m.Network })));
const Owner = lazy(() => import("./pages/Owner").then((m) => ({ default: m.Owner })));
const Stake = lazy(() => import("./pages/Stake").then((m) => ({ default: m.Stake })));
const Credits = lazy(() => import("./pages/Credits").then((m) => ({ default: m.Credits })));
const StorageList = lazy(() => import("./pages/Storage").then((m) => ({ default: m.StorageList })));
const DataSetPage = lazy(() => import("./pages/Storage").then((m) => ({ default: m.DataSetPage })));
const ComputeList = lazy(() => import("./pages/Compute").then((m) => ({ default: m.ComputeList })));
const JobPage = lazy(() => import("./pages/Compute").then((m) => ({ default: m.JobPage })));

function OracleBanner() {
  const health = useOracleHealth();
  const { oracle } = useApp();
  if (!health.isError) return null;
  return (
    <p role="alert" className="banner" data-testid="oracle-down">
      The oracle at {oracle.baseUrl} cannot be reached: figures from the chain are live, rewards history and
      proofs are unavailable until it answers.
    </p>
  );
}

export function App() {
  return (
    <HashRouter>
      <header>
        <nav aria-label="Main">
          <strong>Hexmesh</strong>
          <NavLink to="/" end>
            Overview
          </NavLink>
          <NavLink to="/owner">My rewards</NavLink>
          <NavLink to="/stake">Stake</NavLink>
          <NavLink to="/credits">Credits</NavLink>
          <NavLink to="/storage">Storage</NavLink>
          <NavLink to="/compute">Compute</NavLink>
          <NavLink to="/epochs">Epochs</NavLink>
          <NavLink to="/network">Network</NavLink>
        </nav>
        <WalletBar />
      </header>
      <OracleBanner />
      <main>
        <Suspense fallback={<p>Loading…</p>}>
          <Routes>
            <Route path="/" element={<Overview />} />
            <Route path="/owner" element={<Owner />} />
            <Route path="/owner/:address" element={<Owner />} />
            <Route path="/stake" element={<Stake />} />
            <Route path="/credits" element={<Credits />} />
            <Route path="/storage" element={<StorageList />} />
            <Route path="/storage/:dataSetId" element={<DataSetPage />} />
            <Route path="/compute" element={<ComputeList />} />
            <Route path="/compute/:jobId" element={<JobPage />} />
            <Route path="/epochs" element={<Epochs />} />
            <Route path="/device/:id" element={<Device />} />
            <Route path="/hex/:hex" element={<Hex />} />
            <Route path="/network" element={<Network />} />
            <Route path="*" element={<p>No such page.</p>} />
          </Routes>
        </Suspense>
      </main>
    </HashRouter>
  );
}
